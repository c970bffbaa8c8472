"""Helpers of the end-to-end tests: role processes on free ports, an L2 client over HTTP, and the
replay of every batch from L1 data alone."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from l1_contracts.bindings.bridge import Bridge
from l1_contracts.bindings.rollup import Rollup
from protocol.codec import decode_batch
from protocol.signing import Domain
from protocol.state import State
from protocol.transition import BatchContext, apply_batch
from protocol.txs import Tx
from tests.protocol.harness import Wallet

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(what: str, check: Callable[[], bool], timeout: float = 120.0, every: float = 0.2) -> None:
    """Poll `check` until it holds; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@dataclass
class Proc:
    """A role started as `python -m mlrollup ROLE …`, logging to a file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return int(self.popen.returncode)


@dataclass
class Roles:
    """Processes started by a test, all stopped at the end."""

    directory: Path
    procs: list[Proc] = field(default_factory=list)

    def start(self, name: str, args: Sequence[str], env: dict[str, str] | None = None) -> Proc:
        log = self.directory / f"{name}-{len(self.procs)}.log"
        out = open(log, "wb")  # noqa: SIM115 - the child writes to it
        popen = subprocess.Popen(
            [sys.executable, "-m", "mlrollup", *args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


class L2:
    """A minimal client of the sequencer API (the SDK is another issue's)."""

    def __init__(self, url: str, domain: Domain) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self.domain = domain

    def ready(self) -> bool:
        return self.http.get("/readyz").status_code == 200

    def send(self, wallet: Wallet, make: Callable[[int], Tx]) -> str:
        """Sign with `wallet`'s next nonce, submit, and return the tx hash (202 expected)."""
        raw = wallet.sign(make, self.domain)
        r = self.http.post("/v1/txs", json={"raw": "0x" + raw.hex()})
        assert r.status_code == 202, r.text
        return str(r.json()["hash"])

    def receipt(self, tx_hash: str, timeout: float = 90.0) -> dict[str, Any]:
        """Wait for the tx's receipt; fail unless it succeeded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.http.get(f"/v1/txs/{tx_hash}", params={"wait": 5}).json()
            if body.get("receipt") is not None:
                receipt: dict[str, Any] = body["receipt"]
                assert receipt["success"], receipt
                return receipt
        raise AssertionError(f"no receipt for {tx_hash} after {timeout} s")

    def get(self, path: str, **params: Any) -> Any:
        r = self.http.get(path, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def batch_time(self) -> int:
        """The timestamp the txs accepted now execute at (the open batch's, or about now)."""
        return int(time.time())


def replay_from_l1(rollup: Rollup, bridge: Bridge, domain: Domain, from_block: int = 0) -> list[bytes]:
    """Re-execute every live batch of the Rollup from L1 data alone (the appendBatch calldata and the
    Bridge's deposit events); returns the post-state root of each, checked against L1's."""
    deposits = [d.deposit for d in bridge.deposit_logs(from_block)]
    live = {e.index: e for e in rollup.batches_appended(from_block)}  # a re-appended index wins
    state, consumed, roots = State(), 0, []
    for index in range(rollup.batch_count()):
        event = live[index]
        header, txs = decode_batch(rollup.batch_data(event.tx_hash))
        result = apply_batch(
            state, deposits[consumed : event.deposit_count], txs, BatchContext(domain, header.timestamp)
        )
        assert result.post_root == event.post_root, f"batch {index}: replay disagrees with L1"
        assert result.trace_root == event.trace_root, f"batch {index}: trace disagrees with L1"
        state, consumed = result.post_state, event.deposit_count
        roots.append(result.post_root)
    return roots
