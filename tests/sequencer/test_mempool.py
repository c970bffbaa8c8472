"""Admission: dry-run on the pending state, all or nothing, durable before acknowledged."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol.deposits import Deposit
from protocol.hashing import keccak
from protocol.transition import BatchContext, apply_batch
from protocol.txs import Transfer
from sequencer.builder import BlockBuilder
from sequencer.core.errors import ApiError
from sequencer.l1 import L1Deposit
from sequencer.mempool import Submission
from sequencer.node import Sequencer
from tests.sequencer.helpers import FakeClock, fund, make_settings, sqlite_url
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE, FEES, fee_of
from tests.support.wallets import ETH, Wallet


def test_pending_txs_build_on_each_other(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet]
) -> None:
    a, b, c = wallets[:3]
    fund(node, builder, [a])
    node.submit([Submission(a.sign(lambda n: Transfer(n, b.address, 5 * ETH, max_fee_price=FEE_PRICE)))])
    # b has nothing yet in the committed state, but 5 ETH in the pending one
    raw = b.sign(lambda n: Transfer(n, c.address, 2 * ETH, max_fee_price=FEE_PRICE))
    node.submit([Submission(raw)])
    assert node.head.account(b.address).balance == 0
    assert node.mempool.state.account(b.address).balance == 3 * ETH - fee_of(raw)
    assert node.mempool.state.account(a.address).nonce == 1
    builder.tick()
    assert node.head.account(c.address).balance == 2 * ETH and len(node.mempool) == 0


def test_list_is_all_or_nothing(node: Sequencer, builder: BlockBuilder, wallets: list[Wallet]) -> None:
    a, b = wallets[:2]
    fund(node, builder, [a])
    good = a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE), nonce=0)
    gap = a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE), nonce=2)
    broke = b.sign(lambda n: Transfer(n, a.address, 10 * ETH, max_fee_price=FEE_PRICE), nonce=0)
    with pytest.raises(ApiError) as info:
        node.submit([Submission(good), Submission(gap), Submission(broke)], listed=True)
    error = info.value
    assert (error.status, error.code) == (400, "nonce_gap")
    assert [(i["index"], i["code"]) for i in error.extra["items"]] == [
        (1, "nonce_gap"),
        (2, "fee_unpaid"),  # b holds nothing: not even the fee
    ]
    assert len(node.mempool) == 0 and node.store.known_hashes([keccak(good)]) == set()
    assert node.metrics.txs_rejected.labels("nonce_gap")._value.get() == 2
    node.submit([Submission(good)])
    with pytest.raises(ApiError, match="repeats tx 0"):
        again = a.sign(lambda n: Transfer(n, b.address, 2, max_fee_price=FEE_PRICE), nonce=1)
        node.submit([Submission(again), Submission(again)], listed=True)


def test_acknowledged_means_stored(node: Sequencer, builder: BlockBuilder, wallets: list[Wallet]) -> None:
    a, b = wallets[:2]
    fund(node, builder, [a])
    raw = a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE))
    (pending,) = node.submit([Submission(raw)])
    row = node.store.tx(pending.hash)
    assert row is not None and row.status == "pending" and row.raw == raw and row.seq == pending.seq


def test_a_failed_store_accepts_nothing(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    a, b = wallets[:2]
    fund(node, builder, [a])

    def broken(rows: object) -> None:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(node.store, "insert_txs", broken)
    raw = a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE))
    with pytest.raises(ApiError) as info:
        node.submit([Submission(raw)])
    assert (info.value.status, info.value.code) == (503, "storage_unavailable")
    assert len(node.mempool) == 0 and node.mempool.state.account(a.address).nonce == 0


def test_pending_state_is_rebuilt_after_deposits(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet]
) -> None:
    a, b = wallets[:2]
    fund(node, builder, [a])
    node.submit([Submission(a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE)))])
    fund(node, builder, [b])  # a new batch: its deposits, then a's pending transfer
    assert node.mempool.ts == node.store.batch(1).timestamp  # type: ignore[union-attr]
    assert node.mempool.state.root == node.head.root
    assert node.head.account(b.address).balance == 100 * ETH + 1


def test_deposits_are_credited_on_the_pending_state(
    tmp_path: Path, clock: FakeClock, wallets: list[Wallet]
) -> None:
    node = Sequencer(make_settings(sqlite_url(tmp_path), block_max_txs=1), clock=clock)
    node.start()
    builder = BlockBuilder(node)
    a, b = wallets[:2]
    fund(node, builder, [a])
    raws = [a.sign(lambda n: Transfer(n, b.address, ETH, max_fee_price=FEE_PRICE)) for _ in range(2)]
    node.submit([Submission(r) for r in raws], listed=True)
    node.ingest_deposits([L1Deposit(Deposit(1, b.address, 5 * ETH), 2)])
    built = builder.tick()  # a new batch: the deposit, then one of the two transfers
    assert built is not None and (built.deposit_count, built.tx_count) == (1, 1)
    expected = apply_batch(node.head, [], raws[1:], BatchContext(DOMAIN, FEES, built.timestamp)).post_root
    assert node.mempool.state.root == expected
    node.close()
