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
from l1_contracts.reader import L1Reader
from protocol.derive import Derivation, Verdict
from protocol.signing import Domain
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
    """Every live batch of the Rollup derived from L1 data alone (`l1_contracts.reader` and
    `protocol.derive`, the code the roles run); each must be VALID. Returns their post roots."""
    reader = L1Reader(rollup, bridge, from_block=from_block, confirmations=0)
    reader.poll()
    chain = Derivation(domain)
    derived = chain.extend(reader.live_batches, reader.deposits)
    assert len(derived) == rollup.batch_count()
    bad = [(d.batch.index, d.verdict, d.reason) for d in derived if d.verdict is not Verdict.VALID]
    assert not bad, f"batches that do not replay to L1's roots: {bad}"
    return [d.batch.post_root for d in derived]
