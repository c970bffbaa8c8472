"""Acknowledged txs survive SIGKILL: the sequencer runs as its own process (uvicorn on a free port,
SQLite in a temporary directory), is killed right after its last acknowledgement, restarted, and
must execute every acknowledged tx; its state root must be what the shared derivation
(`protocol.derive`) gives the stored batches from genesis, each one valid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from protocol.deposits import Deposit
from protocol.txs import Transfer
from sequencer.db.session import Database
from sequencer.db.store import Store
from sequencer.l1 import L1Deposit
from tests.sequencer.helpers import ROLLUP, hexed, replay_from_batches, sqlite_url
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT_ADDRESS
from tests.support.servers import free_port
from tests.support.wallets import ETH, Wallet

ROOT = Path(__file__).resolve().parents[2]


class Server:
    """`python -m sequencer` in a child process."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = int(env["MLROLLUP_PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sequencer"], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the sequencer exited with {self.proc.returncode}: see {log}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise AssertionError(f"the sequencer did not become ready: see {log}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLROLLUP_") and k != "DATABASE_URL"}
    env.update(
        MLROLLUP_DATABASE_URL=sqlite_url(tmp_path),
        MLROLLUP_CHAIN_ID=str(DOMAIN.chain_id),
        MLROLLUP_ROLLUP_ADDRESS=ROLLUP,
        MLROLLUP_FEE_PRICE=str(FEE_PRICE),
        MLROLLUP_FEE_RECIPIENT=FEE_RECIPIENT_ADDRESS,
        MLROLLUP_PORT=str(free_port()),
        MLROLLUP_BLOCK_INTERVAL_S="0.3",
        MLROLLUP_BATCH_MAX_AGE_S="1",
        MLROLLUP_LOG_LEVEL="warning",
        MLROLLUP_FOLLOW_L1="false",  # no L1 here: the replay from L1 data is tests/e2e's
    )
    yield env


def test_acknowledged_txs_survive_sigkill(env: dict[str, str], tmp_path: Path) -> None:
    wallets = [Wallet.from_seed(i) for i in range(8)]
    db = Database.connect(env["MLROLLUP_DATABASE_URL"])
    store = Store(db)
    store.migrate()  # the deposit watcher's part: the L1 queue, already confirmed
    store.add_deposits([L1Deposit(Deposit(i, w.address, 10 * ETH), 1) for i, w in enumerate(wallets)], 0.0)
    db.dispose()

    server = Server(env, tmp_path / "first.log")
    acknowledged: list[str] = []
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            deadline = time.monotonic() + 20
            while http.get(f"/v1/accounts/{hexed(wallets[-1].address)}").json()["balance"] == "0":
                assert time.monotonic() < deadline, "the deposits were not executed"
                time.sleep(0.05)
            for round_ in range(6):
                for i, w in enumerate(wallets):
                    make = partial(
                        Transfer,
                        to=wallets[(i + 1) % len(wallets)].address,
                        amount=1 + round_,
                        max_fee_price=FEE_PRICE,
                    )
                    body = {"txs": [{"raw": hexed(w.sign(make))} for _ in range(5)]}
                    r = http.post("/v1/txs/batch", json=body)
                    assert r.status_code == 202, r.text
                    acknowledged += [t["hash"] for t in r.json()["txs"]]
            for w in wallets[:4]:
                raw = w.sign(partial(Transfer, to=w.address, amount=0, max_fee_price=FEE_PRICE))
                r = http.post("/v1/txs", json={"raw": hexed(raw)})
                assert r.status_code == 202, r.text
                acknowledged.append(r.json()["hash"])
    finally:
        server.kill()  # right after the last acknowledgement: no clean shutdown

    server = Server(env, tmp_path / "second.log")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for tx_hash in acknowledged:
                got = http.get(f"/v1/txs/{tx_hash}", params={"wait": 20}).json()
                assert got["status"] == "executed", got
            deadline = time.monotonic() + 20  # the last batch seals once it is a second old
            while http.get("/v1/batches", params={"status": "open"}).json()["batches"]:
                assert time.monotonic() < deadline, "the last batch was not sealed"
                time.sleep(0.1)
            current = http.get("/v1/state/root").json()["current"]["root"]
            next_nonces = {http.get(f"/v1/accounts/{hexed(w.address)}").json()["nonce"] for w in wallets}
            assert next_nonces == {30, 31}  # 6 rounds of 5, and one more for the first four
    finally:
        server.stop()

    db = Database.connect(env["MLROLLUP_DATABASE_URL"])
    try:
        assert hexed(replay_from_batches(Store(db)).root) == current
    finally:
        db.dispose()
