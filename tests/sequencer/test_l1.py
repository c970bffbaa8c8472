"""The L1 interfaces with in-memory fakes: deposits followed into the queue table, sealed batches
handed to a poster in order and recorded with their L1 transaction and gas."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from fastapi.testclient import TestClient

from protocol.codec import BatchHeader, batch_data_hash, decode_batch
from protocol.deposits import Deposit
from protocol.txs import Transfer
from sequencer.builder import BlockBuilder
from sequencer.db.models import BatchState
from sequencer.l1 import BatchPoster, DepositSource, L1Deposit
from sequencer.main import create_app
from sequencer.mempool import Submission
from sequencer.node import Sequencer
from tests.sequencer.helpers import FakeClock, FakeRollup, fund, make_settings, sqlite_url
from tests.support.fees import FEE_PRICE
from tests.support.wallets import ETH, Wallet


class FakeBridge:
    """A deposit queue that grows; `deposits_from` returns what is "confirmed"."""

    def __init__(self) -> None:
        self.queue: list[L1Deposit] = []
        self.calls = 0

    def deposits_from(self, index: int) -> Sequence[L1Deposit]:
        self.calls += 1
        return self.queue[index:]


def test_deposits_are_followed(tmp_path: Path, wallets: list[Wallet]) -> None:
    bridge = FakeBridge()
    source: DepositSource = bridge
    settings = make_settings(sqlite_url(tmp_path), deposit_poll_s=0.02)
    app = create_app(settings, clock=FakeClock(), run_builder=False, deposit_source=source)
    with TestClient(app):
        node: Sequencer = app.state.sequencer
        bridge.queue.append(L1Deposit(Deposit(0, wallets[0].address, ETH), 5))
        deadline = time.monotonic() + 5
        while node.store.next_deposit_index() < 1:
            assert time.monotonic() < deadline, "the deposit was not followed"
            time.sleep(0.02)
        bridge.queue.append(L1Deposit(Deposit(1, wallets[1].address, 2 * ETH), 6, b"\x01" * 32))
        while node.store.next_deposit_index() < 2:
            assert time.monotonic() < deadline, "the deposit was not followed"
            time.sleep(0.02)
        assert app.state.builder.tick() is not None
        assert node.head.account(wallets[1].address).balance == 2 * ETH
        assert bridge.calls >= 2


def test_sealed_batches_are_posted_in_order(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet]
) -> None:
    rollup = FakeRollup()
    poster: BatchPoster = rollup
    a, b = wallets[:2]
    fund(node, builder, [a])
    for _ in range(2):
        node.submit([Submission(a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE)))])
        builder.tick()
        builder.seal()
    node.submit([Submission(a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE)))])
    builder.tick()  # an open batch: not handed to the poster
    # the daemon's loop: reconcile with L1, then post what follows, in order
    for batch in node.batches_to_post(after=poster.posted_count() - 1):
        node.record_posted(poster.post(batch))
    assert [x.id for x in rollup.batches] == [0, 1, 2]
    last = rollup.batches[-1]
    header, txs = decode_batch(last.data)
    assert (header.timestamp, len(txs), last.tx_count) == (last.timestamp, 1, 1)
    assert last.data_hash == batch_data_hash(BatchHeader(1, header.timestamp, 1), txs)
    first = rollup.batches[0]
    assert (first.deposit_start, first.deposit_count, first.deposit_end) == (0, 1, 1)
    assert rollup.batches[1].deposit_end == 1  # cumulative, as appendBatch takes it
    assert node.batches_to_post() == []
    row = node.store.batch(2)
    assert row is not None and row.status == BatchState.POSTED and row.l1_block == 102
    gas = sum(50_000 + len(x.data) * 16 for x in rollup.batches)
    assert node.metrics.l1_gas_spent._value.get() == gas
    node.set_batch_status(1, BatchState.CHALLENGED)
    assert node.store.batch(1).status == BatchState.CHALLENGED  # type: ignore[union-attr]
