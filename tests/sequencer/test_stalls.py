"""The sequencer never stalls (issue 12): reads never wait for admission's lock, an expensive
admission dry-runs outside it, pending work is bounded (429 with Retry-After), long polls hold no
thread and are bounded in number, and slow clients are answered 408 and closed."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from protocol.hashing import ZERO32
from protocol.models import Arch
from protocol.transition import apply_batch
from protocol.txs import CreateTask, Train, Transfer
from sequencer.builder import BlockBuilder
from sequencer.core.errors import ApiError
from sequencer.main import create_app
from sequencer.mempool import Submission
from sequencer.node import Sequencer
from service.httpserver import config
from tests.sequencer.helpers import FakeClock, fund, hexed, make_settings, sqlite_url
from tests.support.fees import FEE_PRICE
from tests.support.paper import paper_model_txs
from tests.support.servers import free_port
from tests.support.wallets import ETH, Wallet


def in_thread(call: Callable[[], Any], timeout: float = 10.0) -> Any:
    """`call()` on another thread; AssertionError if it does not return within `timeout`."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(call)
        try:
            return future.result(timeout)
        except TimeoutError:
            raise AssertionError(f"{call} did not answer within {timeout} s") from None


def test_reads_never_wait_for_the_lock(client: Any, app: FastAPI, wallets: list[Wallet]) -> None:
    """A long admission or block holds the lock: reads answer from the published view meanwhile (the
    old routes took the lock, some on the event loop, which stopped every request, /healthz too)."""
    node: Sequencer = app.state.sequencer
    builder: BlockBuilder = app.state.builder
    a, b = wallets[:2]
    fund(node, builder, [a])
    node.submit([Submission(a.sign(lambda n: Transfer(n, b.address, 5, max_fee_price=FEE_PRICE)))])
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with node.lock:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        account = in_thread(lambda: client.get(f"/v1/accounts/{hexed(a.address)}").json())
        assert (account["nonce"], account["pending_nonce"], account["block"]) == (0, 1, node.height)
        for path in ("/healthz", "/v1/state/root", f"/v1/state/proof/{hexed(b'1' * 32)}", "/v1/models/0"):
            assert in_thread(partial(client.get, path)).status_code in (200, 404), path
    finally:
        release.set()
        holder.join()


def test_an_expensive_admission_dry_runs_outside_the_lock(
    node: Sequencer,
    builder: BlockBuilder,
    wallets: list[Wallet],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The dry-run runs once, outside the lock, and its result is used although the clock moved
    meanwhile (no batch is open, so the admission time is now: it matters to time-dependent txs only)."""
    owner, trainer = wallets[:2]
    fund(node, builder, [owner, trainer])
    node.submit([Submission(r) for r in paper_model_txs(owner, 2)], listed=True)
    builder.tick()
    builder.seal()
    free_during_dry_run = []
    dry_run = node.mempool.dry_run

    def spied(*args: Any, **kwargs: Any) -> Any:  # the real dry-run, noting whether the lock is free
        free_during_dry_run.append(in_thread(lambda: _try_lock(node)))
        clock.advance(2)  # a long dry-run: the next second came
        return dry_run(*args, **kwargs)

    monkeypatch.setattr(node.mempool, "dry_run", spied)
    trains = [trainer.sign(lambda n: Train(n, 0, 3, max_fee_price=FEE_PRICE)) for _ in range(2)]
    node.submit([Submission(r) for r in trains], listed=True)
    assert free_during_dry_run == [True]
    assert node.view.pending.account(trainer.address).nonce == 2  # published with the txs
    assert builder.tick() is not None and node.head.account(trainer.address).nonce == 2


def test_a_new_batch_time_runs_again_only_the_time_dependent_txs(
    node: Sequencer,
    builder: BlockBuilder,
    wallets: list[Wallet],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Trains wait in front of a CreateTask (whose outcome depends on the batch time): each new batch
    rebuilds the pending state, which ran every pending Train again (quadratic in the list); now it
    starts from the state kept after the last Train."""
    owner, trainer, submitter = wallets[:3]
    fund(node, builder, [owner, trainer, submitter])
    node.submit([Submission(r) for r in paper_model_txs(owner, 2)], listed=True)
    builder.tick()
    builder.seal()
    now = int(clock())
    trains = [trainer.sign(lambda n: Train(n, 0, 3, max_fee_price=FEE_PRICE)) for _ in range(3)]
    node.submit([Submission(r) for r in trains], listed=True)
    task = submitter.sign(
        lambda n: CreateTask(
            n, Arch.LINREG, 1, 0, 0, ETH, now + 1_000, now + 2_000, ZERO32, ZERO32, max_fee_price=FEE_PRICE
        )
    )
    node.submit([Submission(task)])
    rerun: list[int] = []
    real = apply_batch

    def counted(state: Any, deposits: Any, txs: Any, ctx: Any, **kwargs: Any) -> Any:
        rerun.append(len(txs))
        return real(state, deposits, txs, ctx, **kwargs)

    monkeypatch.setattr("sequencer.mempool.apply_batch", counted)  # the real one, counting its txs
    builder.max_steps = 5  # one 4-step Train a batch: each block opens a batch at a new time
    built = []
    while True:
        clock.advance(2)
        block = builder.tick()
        if block is None:
            break
        built.append(block)
    assert [b.tx_count for b in built] == [1, 1, 2] and len({b.timestamp for b in built}) == 3
    assert rerun and set(rerun) == {1}  # the CreateTask alone, never a Train again
    assert node.head.task(0) is not None and node.view.pending.root == node.head.root


def _try_lock(node: Sequencer) -> bool:
    if node.lock.acquire(timeout=1):
        node.lock.release()
        return True
    return False


def test_pending_work_is_bounded_by_sender_and_in_all(
    tmp_path: Path, clock: FakeClock, wallets: list[Wallet]
) -> None:
    settings = make_settings(sqlite_url(tmp_path), max_pending_steps=30, max_pending_steps_per_sender=20)
    node = Sequencer(settings, clock=clock)
    node.start()
    builder = BlockBuilder(node)
    try:
        owner, a, b, c = wallets[:4]
        fund(node, builder, [owner, a, b, c])
        node.submit([Submission(r) for r in paper_model_txs(owner, 2)], listed=True)
        builder.tick()

        def submit(w: Wallet, *makes: Callable[[int], Any]) -> None:
            node.submit([Submission(w.sign(m)) for m in makes], listed=len(makes) > 1)

        submit(a, lambda n: Train(n, 0, 10, max_fee_price=FEE_PRICE))  # 11 steps
        assert (node.mempool.pending_steps, node.mempool.sender_steps[a.address]) == (11, 11)
        stored = node.store.max_seq()
        with pytest.raises(ApiError) as refused:
            submit(a, lambda n: Train(n, 0, 10, max_fee_price=FEE_PRICE))  # 22 > 20
        assert (refused.value.status, refused.value.code) == (429, "sender_busy")
        assert refused.value.headers is not None and int(refused.value.headers["Retry-After"]) >= 1
        a.nonce -= 1
        with pytest.raises(ApiError, match="max_pending_steps_per_sender"):
            submit(
                a, *[lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE)] * 10
            )  # cheap, but 11 + 10 > 20
        a.nonce -= 10
        with pytest.raises(ApiError) as refused:  # far over the bounds: its dry-run is cut short
            submit(b, lambda n: Train(n, 0, 1_000, max_fee_price=FEE_PRICE))
        assert refused.value.code == "mempool_full"  # 19 steps left in all, 20 for b
        b.nonce -= 1
        submit(b, lambda n: Train(n, 0, 10, max_fee_price=FEE_PRICE))  # 22 in all
        with pytest.raises(ApiError) as refused:
            submit(c, lambda n: Train(n, 0, 10, max_fee_price=FEE_PRICE))  # 33 > 30
        assert (refused.value.status, refused.value.code) == (429, "mempool_full")
        c.nonce -= 1
        assert node.store.max_seq() == stored + 1 and len(node.mempool) == 2  # nothing refused was kept
        while builder.tick() is not None:
            pass
        assert node.mempool.pending_steps == 0 and not node.mempool.sender_steps
        submit(c, lambda n: Train(n, 0, 10, max_fee_price=FEE_PRICE))  # executed work frees the bound
    finally:
        node.close()


class Server:
    """The app under uvicorn with the service's limits, on a thread, for tests that need real
    connections and concurrency."""

    def __init__(self, app: FastAPI, limits: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = config(app, limits, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture
def served(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Server, FastAPI]]:
    settings = make_settings(
        sqlite_url(tmp_path),
        max_long_polls=50,
        request_header_timeout_s=0.5,
        request_timeout_s=0.5,
        timeout_keep_alive_s=1,
    )
    app = create_app(settings, clock=clock, run_builder=False)
    server = Server(app, settings.server_limits)
    try:
        yield server, app
    finally:
        server.stop()


def test_long_polls_hold_no_thread_and_are_bounded(
    served: tuple[Server, FastAPI], wallets: list[Wallet]
) -> None:
    """Fifty long polls wait while /readyz (a route on the thread pool, 40 threads) answers at once;
    the fifty-first answers without waiting; a block wakes the waits on it."""
    server, app = served
    node: Sequencer = app.state.sequencer
    builder: BlockBuilder = app.state.builder
    a, b = wallets[:2]
    fund(node, builder, [a])
    raw = a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE))
    node.submit([Submission(raw)])
    tx_hash = hexed(node.mempool.txs[0].hash)
    with ThreadPoolExecutor(60) as pool, httpx.Client(base_url=server.url, timeout=60) as http:
        far = node.height + 1_000
        polls = [
            pool.submit(httpx.get, f"{server.url}/v1/blocks/{far + i}?wait=5", timeout=60) for i in range(49)
        ]
        receipt = pool.submit(httpx.get, f"{server.url}/v1/txs/{tx_hash}?wait=20", timeout=60)
        deadline = time.monotonic() + 10
        while len(node.block_waiters) < 50:
            assert time.monotonic() < deadline, f"only {len(node.block_waiters)} polls wait"
            time.sleep(0.02)
        assert http.get("/readyz").status_code == 200  # the old waits held a thread each: 40 at most
        extra = http.get(f"/v1/blocks/{far + 100}", params={"wait": 5})
        assert extra.status_code == 404 and not any(p.done() for p in polls)  # answered at once
        builder.tick()  # the block wakes every wait: the receipt's returns, the others wait on
        assert receipt.result(10).json()["status"] == "executed"
        assert not any(p.done() for p in polls)
        for p in polls:
            assert p.result(20).status_code == 404


def test_slow_clients_get_a_408_and_are_closed(served: tuple[Server, FastAPI]) -> None:
    server, _ = served

    def answer(sock: socket.socket) -> bytes:
        sock.settimeout(10)
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        return data  # the server closed the connection

    with socket.create_connection(("127.0.0.1", server.port)) as idle:
        assert answer(idle).startswith(b"HTTP/1.1 408")  # connected, said nothing
    with socket.create_connection(("127.0.0.1", server.port)) as half:
        half.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # the headers never end
        assert answer(half).startswith(b"HTTP/1.1 408")
    with socket.create_connection(("127.0.0.1", server.port)) as body:
        body.sendall(b"POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
        body.sendall(b'Content-Length: 100\r\n\r\n{"raw": ')  # a tenth of the body, then nothing
        got = answer(body)
        assert got.startswith(b"HTTP/1.1 408") and b'"request_timeout"' in got
    with socket.create_connection(("127.0.0.1", server.port)) as kept:
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = answer(kept)  # answered, then closed (silently) once idle for the keep-alive time
        assert first.startswith(b"HTTP/1.1 200") and first.count(b"HTTP/1.1 ") == 1
    assert httpx.get(f"{server.url}/healthz").status_code == 200
