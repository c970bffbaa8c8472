"""The sequencer never stalls: latencies of a real `python -m sequencer` under heavy work, long
polls and slow clients (issue 12).

Run: `python -m bench.admission` (a few minutes; `--quick`, as CI runs it, tiny Trains and few
clients). It starts `python -m sequencer` on a free 127.0.0.1 port over a fresh SQLite file, without
following L1, funds accounts through the deposit table (as the deposit watcher would), creates a
shared model with one full data chunk, and prints:

1. `/healthz` and `GET /v1/accounts/{address}` latency (p50, max), each polled every 50 ms, while a
   list of eight `--epochs`-step Trains is admitted (one sender; the sequencer's per-sender bound
   on pending work is raised for this, so that the list is admitted rather than refused with a 429);
2. an honest transfer's receipt latency (from its 202 to its receipt) behind five, then eight,
   such Trains;
3. `/readyz` latency while forty `GET /v1/blocks/{n}?wait=30` long polls wait (for blocks far
   ahead, so each waits its 30 s);
4. slow clients: `--slow-clients` connections that send half a request's headers and then nothing;
   how many the server still holds after `--slow-hold` seconds, and when it closed the others.

Every figure comes from this one run on this machine; compare runs of the same script, e.g. this
commit against an older one (`git clone` it and run this file there).
"""

from __future__ import annotations

import argparse
import contextlib
import selectors
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.fees import FEES
from bench.sequencer import start_server as start_sequencer
from client import txs
from protocol.deposits import Deposit
from protocol.params import SHARED_CHUNK_POINTS
from protocol.signing import Domain, address_of, sign_tx
from sequencer.db.session import Database
from sequencer.db.store import Store
from sequencer.l1 import L1Deposit

DOMAIN = Domain(chain_id=31337, verifying_contract=b"\x5f" * 20)
ETH = 10**18
ROOT = Path(__file__).resolve().parent.parent


class Account:
    """A funded key and its next nonce."""

    def __init__(self, index: int) -> None:
        self.key = (index + 1).to_bytes(32, "big")
        self.address = address_of(self.key)
        self.nonce = 0

    def sign(self, make: txs.MakeTx) -> str:
        raw = sign_tx(DOMAIN, make(self.nonce, FEES.price), self.key).encoded
        self.nonce += 1
        return "0x" + raw.hex()


def start_server(database_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    return start_sequencer(
        database_url,
        0.5,
        log,
        MLROLLUP_BATCH_MAX_AGE_S="2",
        MLROLLUP_MAX_PENDING_STEPS_PER_SENDER="100000",  # measure the list of eight, not its refusal
    )


def submit(http: httpx.Client, raws: list[str]) -> list[str]:
    """POST one tx or a list; the accepted hashes."""
    if len(raws) == 1:
        r = http.post("/v1/txs", json={"raw": raws[0]})
    else:
        r = http.post("/v1/txs/batch", json={"txs": [{"raw": x} for x in raws]})
    if r.status_code != 202:
        raise SystemExit(f"submission refused: {r.status_code} {r.text[:300]}")
    data = r.json()
    return [t["hash"] for t in data.get("txs", [data])]


def wait_receipt(http: httpx.Client, tx_hash: str, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = http.get(f"/v1/txs/{tx_hash}", params={"wait": 10})
        if r.status_code == 200 and r.json()["status"] != "pending":
            return
    raise SystemExit(f"no receipt for {tx_hash} within {timeout:.0f} s")


def wait_idle(http: httpx.Client, timeout: float = 900) -> None:
    """Until the mempool is empty."""
    deadline = time.monotonic() + timeout
    while http.get("/readyz").json().get("mempool", 1) != 0:
        if time.monotonic() > deadline:
            raise SystemExit("the mempool did not drain")
        time.sleep(0.2)


def probe(url: str, path: str, stop: threading.Event, every: float = 0.05) -> list[float]:
    """GET `path` every `every` seconds until `stop`; each answer's latency in seconds."""
    out: list[float] = []
    with httpx.Client(base_url=url, timeout=120) as http:
        while not stop.is_set():
            started = time.perf_counter()
            with contextlib.suppress(httpx.TimeoutException):  # no answer in 120 s: counted as 120 s
                http.get(path)
            out.append(time.perf_counter() - started)
            time.sleep(every)
    return out


def figures(latencies: list[float]) -> str:
    if not latencies:
        return "no answer"
    return (
        f"p50 {1000 * statistics.median(latencies):.1f} ms, max {1000 * max(latencies):.1f} ms "
        f"({len(latencies)} requests)"
    )


def setup_model(http: httpx.Client, owner: Account) -> int:
    """A shared model with one full data chunk: each Train epoch is one step."""
    points = SHARED_CHUNK_POINTS
    xs = [[i % 7] for i in range(points)]
    ys = [3 * (i % 7) + 1 for i in range(points)]
    create = owner.sign(txs.create_model(1, 1_000, [0, 0]))
    (h,) = submit(http, [create])
    wait_receipt(http, h)
    model_id = 0
    (h,) = submit(http, [owner.sign(txs.add_data(model_id, xs, ys))])
    wait_receipt(http, h)
    return model_id


def bench_admission(url: str, http: httpx.Client, sender: Account, model: int, epochs: int) -> None:
    trains = [sender.sign(txs.train(model, epochs)) for _ in range(8)]
    stop = threading.Event()
    box: dict[str, list[float]] = {}
    paths = {"/healthz": "/healthz", "/v1/accounts": f"/v1/accounts/0x{sender.address.hex()}"}
    probers = [
        threading.Thread(target=lambda k=k, p=p: box.setdefault(k, probe(url, p, stop)))
        for k, p in paths.items()
    ]
    for t in probers:
        t.start()
    started = time.perf_counter()
    hashes = submit(http, trains)
    admitted = time.perf_counter() - started
    stop.set()
    for t in probers:
        t.join()
    print(f"admission of a list of eight {epochs}-step Trains: {admitted:.1f} s")
    for k in paths:
        print(f"  {k} meanwhile: {figures(box[k])}")
    for h in hashes:
        wait_receipt(http, h)


def bench_receipt(http: httpx.Client, sender: Account, honest: Account, model: int, epochs: int) -> None:
    for count in (5, 8):
        wait_idle(http)
        submit(http, [sender.sign(txs.train(model, epochs)) for _ in range(count)])
        (h,) = submit(http, [honest.sign(txs.transfer(sender.address, 1))])
        started = time.perf_counter()
        wait_receipt(http, h)
        print(
            f"an honest transfer's receipt behind {count} {epochs}-step Trains: "
            f"{time.perf_counter() - started:.1f} s"
        )
    wait_idle(http)


def bench_long_polls(url: str, http: httpx.Client, polls: int, wait: float) -> None:
    latest = http.get("/v1/blocks/latest").json()["number"]
    threads = []

    def poll(i: int) -> None:  # a block far ahead: each poll waits its whole `wait`
        with httpx.Client(base_url=url, timeout=wait + 60) as c:
            c.get(f"/v1/blocks/{latest + 1_000_000 + i}", params={"wait": wait})

    for i in range(polls):
        t = threading.Thread(target=poll, args=(i,), daemon=True)
        t.start()
        threads.append(t)
    time.sleep(1.0)  # every poll is waiting
    latencies = []
    for _ in range(10):
        started = time.perf_counter()
        http.get("/readyz")
        latencies.append(time.perf_counter() - started)
        time.sleep(0.1)
    print(f"/readyz under {polls} long polls (?wait={wait:g}): {figures(latencies)}")
    for t in threads:
        t.join(wait + 60)


def bench_slow_clients(url: str, count: int, hold: float) -> None:
    host, port = url.removeprefix("http://").split(":")
    sel = selectors.DefaultSelector()
    opened_at: dict[socket.socket, float] = {}
    for _ in range(count):
        s = socket.create_connection((host, int(port)))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # half a request: the headers never end
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        opened_at[s] = time.monotonic()
    started = time.monotonic()
    closed: list[float] = []
    answered = 0
    health: list[float] = []
    while time.monotonic() - started < hold and len(closed) < count:
        for key, _ in sel.select(timeout=0.2):
            conn = key.fileobj
            assert isinstance(conn, socket.socket)
            try:
                data = conn.recv(4096)
            except OSError:
                data = b""
            if data.startswith(b"HTTP/1.1 408"):
                answered += 1
            sel.unregister(conn)
            closed.append(time.monotonic() - opened_at[conn])
            conn.close()
        if not health or time.monotonic() - started > len(health):
            t0 = time.perf_counter()
            try:
                httpx.get(f"{url}/healthz", timeout=hold)
                health.append(time.perf_counter() - t0)
            except httpx.HTTPError:
                health.append(float("inf"))
    held = count - len(closed)
    for key in list(sel.get_map().values()):
        sel.unregister(key.fileobj)
        key.fileobj.close()  # type: ignore[union-attr]
    when = f", closed after {min(closed):.1f}-{max(closed):.1f} s" if closed else ""
    print(
        f"slow clients: {count} sent half their headers; after {hold:g} s the server still held {held}"
        f" ({len(closed)} closed{when}, {answered} with a 408)"
    )
    print(f"  /healthz meanwhile: {figures(health)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.admission", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny Trains and few clients (CI)")
    parser.add_argument("--epochs", type=int, help="steps of each Train (default 2000; 20 with --quick)")
    parser.add_argument("--polls", type=int, default=40)
    parser.add_argument("--slow-clients", type=int, help="default 1000; 50 with --quick")
    parser.add_argument("--slow-hold", type=float, help="seconds (default 30; 12 with --quick)")
    parser.add_argument(
        "--parts", default="admission,receipt,polls,slow", help="which figures (default %(default)s)"
    )
    args = parser.parse_args(argv)
    epochs = args.epochs or (20 if args.quick else 2_000)
    slow = args.slow_clients or (50 if args.quick else 1_000)
    hold = args.slow_hold or (12.0 if args.quick else 30.0)
    wait = 3.0 if args.quick else 30.0
    parts = set(args.parts.split(","))
    accounts = [Account(i) for i in range(3)]
    with tempfile.TemporaryDirectory(prefix="bench-admission-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'sequencer.db'}"
        db = Database.connect(database_url)
        store = Store(db)
        store.migrate()
        store.add_deposits(
            [L1Deposit(Deposit(i, a.address, 1_000 * ETH), 1) for i, a in enumerate(accounts)], 0
        )
        db.dispose()
        proc, url = start_server(database_url, Path(tmp) / "sequencer.log")
        try:
            with httpx.Client(base_url=url, timeout=900) as http:
                deadline = time.monotonic() + 60
                while http.get(f"/v1/accounts/0x{accounts[-1].address.hex()}").json()["balance"] == "0":
                    if time.monotonic() > deadline:
                        raise SystemExit("the deposits were not executed")
                    time.sleep(0.1)
                owner, trainer, honest = accounts
                model = setup_model(http, owner)
                if "admission" in parts:
                    bench_admission(url, http, trainer, model, epochs)
                if "receipt" in parts:
                    bench_receipt(http, trainer, honest, model, epochs)
                if "polls" in parts:
                    bench_long_polls(url, http, args.polls, wait)
            if "slow" in parts:
                bench_slow_clients(url, slow, hold)
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
