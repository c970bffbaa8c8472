"""No process outlives the sequencer: SIGKILL of a real `python -m sequencer` takes its executor
process (and multiprocessing's resource tracker) with it, and the children `mlrollup up` starts
get a signal when `up` dies (`service.lifeline`)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from protocol.signing import to_checksum_address
from tests.sequencer.helpers import ROLLUP, sqlite_url
from tests.support.domain import DOMAIN
from tests.support.fees import FEES
from tests.support.servers import clean_env, free_port

ROOT = Path(__file__).resolve().parents[2]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")


def wait_gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    """The pids still running (not zombies) after up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def test_sigkill_of_the_sequencer_leaves_no_child(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(
        MLROLLUP_DATABASE_URL=sqlite_url(tmp_path),
        MLROLLUP_CHAIN_ID=str(DOMAIN.chain_id),
        MLROLLUP_ROLLUP_ADDRESS=ROLLUP,
        MLROLLUP_FEE_PRICE=str(FEES.price),
        MLROLLUP_FEE_RECIPIENT=to_checksum_address(FEES.recipient),
        MLROLLUP_PORT=str(port),
        MLROLLUP_FOLLOW_L1="false",
        MLROLLUP_EXECUTOR="process",
        MLROLLUP_LOG_LEVEL="warning",
    )
    with open(tmp_path / "sequencer.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sequencer"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 120
        children: list[psutil.Process] = []
        while time.monotonic() < deadline:  # ready, with its executor process started
            assert proc.poll() is None, (tmp_path / "sequencer.log").read_text()
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                ready = False
            children = parent.children(recursive=True)
            if ready and any("spawn_main" in " ".join(c.cmdline()) for c in children):
                break
            time.sleep(0.1)
        assert children, "the sequencer started no executor process"
        pids = [c.pid for c in children]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert wait_gone(pids, timeout=5) == []  # the old executor lived on for seconds, or forever
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@linux_only
def test_a_child_started_like_up_starts_its_roles_dies_with_its_parent(tmp_path: Path) -> None:
    """`mlrollup up` starts each role with `pdeathsig_preexec`: SIGKILL of `up` sends them SIGTERM."""
    pid_file = tmp_path / "child.pid"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "from service.lifeline import pdeathsig_preexec\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'],"
            " start_new_session=True, preexec_fn=pdeathsig_preexec())\n"
            f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
            "time.sleep(120)\n",
        ],
        cwd=ROOT,
        env=clean_env(),
    )
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and parent.poll() is None, "the parent did not start its child"
            time.sleep(0.05)
        child = int(pid_file.read_text())
        assert wait_gone([child], timeout=0.2) == [child]
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert wait_gone([child]) == []
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if pid_file.exists() and pid_file.read_text():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
