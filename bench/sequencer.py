"""Sequencer benchmark: accepted txs/s through HTTP (list and single submission), txs/s through the
block builder, and the latency from submit to receipt.

Run: `python -m bench.sequencer` (about a minute; `--quick`, as CI runs it, a few seconds of load).
It starts `python -m sequencer` on a free 127.0.0.1 port over a fresh SQLite file (or
`--database-url`), without following L1, funds the accounts through the deposit table (as the
deposit watcher would), and drives it with httpx clients in worker processes
(one httpx client tops out near 350 requests/s on this machine, so one process could not measure
the server). Targets on the project's 2-core machine: 1,000 txs/s through list submission, 300
through single submission.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.fees import FEE_PRICE, FEES
from mlrollup.processes import free_port
from protocol.deposits import Deposit
from protocol.signing import Domain, address_of, sign_tx, to_checksum_address
from protocol.txs import Transfer
from sequencer.builder import BlockBuilder
from sequencer.core.config import Settings
from sequencer.db.session import Database
from sequencer.db.store import Store
from sequencer.l1 import L1Deposit
from sequencer.mempool import Submission
from sequencer.node import Sequencer

DOMAIN = Domain(chain_id=31337, verifying_contract=b"\x5f" * 20)
ETH = 10**18
ROOT = Path(__file__).resolve().parent.parent


class Accounts:
    """Funded keys and their next nonces."""

    def __init__(self, count: int) -> None:
        self.keys = [(i + 1).to_bytes(32, "big") for i in range(count)]
        self.addresses = [address_of(k) for k in self.keys]
        self.nonces = [0] * count

    def sign(self, i: int) -> bytes:
        """A transfer of 1 wei from account i to the next one, with i's next nonce."""
        to = self.addresses[(i + 1) % len(self.keys)]
        raw = sign_tx(DOMAIN, Transfer(self.nonces[i], to, 1, max_fee_price=FEE_PRICE), self.keys[i]).encoded
        self.nonces[i] += 1
        return raw

    def transfers(self, n: int, owner: int = 0, owners: int = 1) -> list[bytes]:
        """n transfers round-robin over the accounts of `owner` (one of `owners` disjoint shares):
        senders owning disjoint accounts submit concurrently without nonce gaps."""
        share = len(self.keys) // owners
        return [self.sign(owner * share + k % share) for k in range(n)]

    def deposits(self) -> list[L1Deposit]:
        return [L1Deposit(Deposit(i, a, 1_000 * ETH), 1) for i, a in enumerate(self.addresses)]


def seed(database_url: str, accounts: Accounts) -> None:
    """The deposit watcher's part: the accounts' deposits, confirmed on L1, in the deposit table."""
    db = Database.connect(database_url)
    store = Store(db)
    store.migrate()
    store.add_deposits(accounts.deposits(), time.time())
    db.dispose()


def start_server(
    database_url: str, block_interval: float, log: Path, **settings: str
) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m sequencer` without L1 on a free port, on `database_url`, with `settings` (more
    MLROLLUP_ variables) on top of this benchmark's; once `/readyz` says ready, the process and its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLROLLUP_") and k != "DATABASE_URL"}
    env.update(
        MLROLLUP_DATABASE_URL=database_url,
        MLROLLUP_CHAIN_ID=str(DOMAIN.chain_id),
        MLROLLUP_FEE_PRICE=str(FEES.price),  # no L1 to read the schedule from: the one the txs pay
        MLROLLUP_FEE_RECIPIENT=to_checksum_address(FEES.recipient),
        MLROLLUP_ROLLUP_ADDRESS=to_checksum_address(DOMAIN.verifying_contract),
        MLROLLUP_PORT=str(port),
        MLROLLUP_BLOCK_INTERVAL_S=str(block_interval),
        MLROLLUP_FOLLOW_L1="false",  # no L1: the deposits are seeded, and a follower would wait for one
        MLROLLUP_LOG_LEVEL="warning",
    )
    env.update(settings)
    url = f"http://127.0.0.1:{port}"
    out = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "sequencer"], cwd=ROOT, env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the sequencer exited: see {log}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the sequencer did not become ready: see {log}")


class BlockWatcher:
    """Polls the latest block; records when each tx was first seen executed (its receipt's time)."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self.seen: dict[str, float] = {}
        self.last = self.http.get("/v1/blocks/latest").json()["number"]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            r = self.http.get(f"/v1/blocks/{self.last + 1}", params={"wait": 1})
            if r.status_code == 200:
                now = time.perf_counter()
                self.seen.update((tx_hash, now) for tx_hash in r.json()["txs"])
                self.last += 1

    def wait_for(self, hashes: list[str], timeout: float = 300) -> float:
        deadline = time.monotonic() + timeout
        while not all(h in self.seen for h in hashes):
            if time.monotonic() > deadline:
                raise SystemExit("txs were not executed in time")
            time.sleep(0.02)
        return max(self.seen[h] for h in hashes)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.http.close()


def _send(args: tuple[str, str, list[bytes]]) -> list[tuple[str, float]]:
    """Worker process: POST each body to `path` in order; (hash, submit time) of every accepted tx."""
    url, path, bodies = args
    out: list[tuple[str, float]] = []
    with httpx.Client(base_url=url, timeout=120) as http:
        for body in bodies:
            started = time.perf_counter()
            r = http.post(path, content=body, headers={"content-type": "application/json"})
            if r.status_code != 202:
                raise RuntimeError(r.text)
            data = r.json()
            out.extend((t["hash"], started) for t in data.get("txs", [data]))
    return out


def drive(url: str, path: str, per_process: list[list[bytes]]) -> tuple[float, list[tuple[str, float]]]:
    """Send each process's bodies from its own process; accepted txs/s and every (hash, time)."""
    with multiprocessing.get_context("fork").Pool(len(per_process)) as pool:
        started = time.perf_counter()
        results = pool.map(_send, [(url, path, bodies) for bodies in per_process])
        elapsed = time.perf_counter() - started
    sent = [x for r in results for x in r]
    return len(sent) / elapsed, sent


def body_of(raws: list[bytes]) -> bytes:
    if len(raws) == 1:
        return ('{"raw": "0x' + raws[0].hex() + '"}').encode()
    return ('{"txs": [' + ", ".join('{"raw": "0x' + r.hex() + '"}' for r in raws) + "]}").encode()


def bench_builder(database_url: str, n: int) -> float:
    """Txs/s through the block builder alone (execute + commit), on a mempool of n transfers."""
    settings = Settings(
        database_url=database_url,
        chain_id=DOMAIN.chain_id,
        rollup_address=to_checksum_address(DOMAIN.verifying_contract),
        fee_price=FEES.price,
        fee_recipient=to_checksum_address(FEES.recipient),
        block_max_txs=1_000,
        batch_max_age_s=3_600,
    )
    accounts = Accounts(200)
    seed(database_url, accounts)
    node = Sequencer(settings)
    node.start()
    builder = BlockBuilder(node)
    builder.tick()  # the deposits (and the executor process's start)
    raws = accounts.transfers(n)
    for i in range(0, n, 1_000):
        node.submit([Submission(r) for r in raws[i : i + 1_000]], listed=True)
    started = time.perf_counter()
    executed = 0
    while (built := builder.tick()) is not None:
        executed += built.tx_count
    elapsed = time.perf_counter() - started
    builder.stop()
    node.close()
    assert executed == n
    return n / elapsed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--list-txs", type=int, default=12_000, help="txs sent as lists")
    parser.add_argument("--list-size", type=int, default=500)
    parser.add_argument("--single-txs", type=int, default=4_000, help="txs sent one by one")
    parser.add_argument("--senders", type=int, default=4, help="sender processes for single submission")
    parser.add_argument("--rate", type=float, default=100, help="txs/s of the latency run")
    parser.add_argument("--block-interval", type=float, default=0.2)
    parser.add_argument("--paced-seconds", type=float, default=10, help="length of the latency run")
    parser.add_argument("--builder-txs", type=int, default=6_000, help="txs through the builder alone")
    parser.add_argument("--quick", action="store_true", help="small counts (a smoke run, seconds)")
    args = parser.parse_args(argv)
    if args.quick:
        args.list_txs, args.list_size, args.single_txs, args.senders = 1_000, 100, 200, 2
        args.paced_seconds, args.builder_txs = 2, 1_000
    tmp = Path(tempfile.mkdtemp(prefix="bench-sequencer-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'sequencer.db'}"
    accounts = Accounts(480)
    seed(database_url, accounts)
    # every body is signed and encoded before the clock starts
    lists = [
        [
            body_of(accounts.transfers(args.list_size, c, 2))
            for _ in range(args.list_txs // args.list_size // 2)
        ]
        for c in range(2)
    ]
    singles = [
        [body_of([r]) for r in accounts.transfers(args.single_txs // args.senders, c, args.senders)]
        for c in range(args.senders)
    ]
    paced = [body_of([r]) for r in accounts.transfers(int(args.rate * args.paced_seconds))]
    proc, url = start_server(database_url, args.block_interval, tmp / "server.log")
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            last = to_checksum_address(accounts.addresses[-1])
            while http.get(f"/v1/accounts/{last}").json()["balance"] == "0":
                time.sleep(0.05)
        watcher = BlockWatcher(url)
        list_rate, sent = drive(url, "/v1/txs/batch", lists)
        list_end = watcher.wait_for([h for h, _ in sent])
        list_e2e = len(sent) / (list_end - min(t for _, t in sent))
        single_rate, sent = drive(url, "/v1/txs", singles)
        watcher.wait_for([h for h, _ in sent])
        # latency: one tx every 1/rate s, each timed from its POST to the block that holds it
        timed: list[tuple[str, float]] = []
        with httpx.Client(base_url=url, timeout=30) as http:
            started = time.perf_counter()
            for i, body in enumerate(paced):
                time.sleep(max(0.0, started + i / args.rate - time.perf_counter()))
                t = time.perf_counter()
                r = http.post("/v1/txs", content=body, headers={"content-type": "application/json"})
                timed.append((r.json()["hash"], t))
        watcher.wait_for([h for h, _ in timed])
        latencies = [watcher.seen[h] - t for h, t in timed]
        watcher.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    builder_rate = bench_builder(f"sqlite:///{tmp / 'builder.db'}", args.builder_txs)
    results: dict[str, Any] = {
        "list": list_rate,
        "list_e2e": list_e2e,
        "single": single_rate,
        "builder": builder_rate,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
    }
    print(f"sequencer benchmark ({os.cpu_count()} CPUs, {database_url.split(':')[0]}, executor in a process)")
    print(
        f"  list submission   {results['list']:7.0f} accepted txs/s (target 1,000; lists of {args.list_size})"
    )
    print(f"                    {results['list_e2e']:7.0f} txs/s accepted and executed")
    print(f"  single submission {results['single']:7.0f} accepted txs/s (target 300; {args.senders} senders)")
    print(f"  block builder     {results['builder']:7.0f} txs/s (execute + commit, blocks of 1,000)")
    print(
        f"  submit -> receipt p50 {results['p50'] * 1000:.0f} ms, p99 {results['p99'] * 1000:.0f} ms "
        f"({args.rate:.0f} txs/s, block interval {args.block_interval * 1000:.0f} ms)"
    )
    print(f"  (server log and databases in {tmp})")


if __name__ == "__main__":
    main()
