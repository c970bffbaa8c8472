"""The batch posting daemon against an in-memory Rollup that checks order like the contract:
exactly once and in order across failures and restarts, waiting for L1 time, finality, and waiting
(never halting) while L1 contradicts the database, then posting again once the sequencer followed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from protocol.txs import Transfer
from sequencer.batcher import Batcher, BatcherConfig
from sequencer.builder import BlockBuilder
from sequencer.db.models import BatchState
from sequencer.l1 import BatchPoster, ChallengePhase
from sequencer.mempool import Submission
from sequencer.node import Sequencer
from tests.sequencer.helpers import FakeClock, FakeRollup, fund
from tests.support.fees import FEE_PRICE
from tests.support.wallets import Wallet


def seal_batches(node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], count: int) -> None:
    a, b = wallets[:2]
    for _ in range(count):
        node.submit([Submission(a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE)))])
        assert builder.tick() is not None
        builder.seal()


def statuses(node: Sequencer, count: int) -> list[str]:
    rows = [node.store.batch(i) for i in range(count)]
    return [r.status if r is not None else "missing" for r in rows]


@pytest.fixture
def rollup(clock: FakeClock) -> FakeRollup:
    return FakeRollup(window=10, now=clock)


def make_batcher(node: Sequencer, poster: BatchPoster, clock: FakeClock) -> Batcher:
    config = BatcherConfig(poll_s=0, backoff_s=0.01, backoff_max_s=0.04)
    return Batcher(node.store, poster, config, metrics=node.metrics, clock=clock, on_final=node.forget_before)


def test_posts_in_order_records_gas_and_finalizes(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], rollup: FakeRollup, clock: FakeClock
) -> None:
    fund(node, builder, wallets[:1])
    seal_batches(node, builder, wallets, 2)
    batcher = make_batcher(node, rollup, clock)
    result = batcher.run_once()
    assert rollup.bonded and [b.id for b in rollup.batches] == [0, 1, 2]
    assert [p.batch_id for p in result.posted] == [0, 1, 2] and result.finalized_count == 0
    assert statuses(node, 3) == [BatchState.POSTED] * 3
    row = node.store.batch(1)
    assert row is not None and row.gas_used == rollup.receipt(1).gas_used and row.l1_block == 101
    assert node.metrics.l1_gas_spent._value.get() == sum(rollup.receipt(i).gas_used for i in range(3))
    clock.advance(10)
    assert batcher.run_once().finalized_count == 3
    assert statuses(node, 3) == [BatchState.FINAL] * 3
    assert rollup.posts == 3


def test_a_lost_answer_is_reconciled_not_posted_twice(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], rollup: FakeRollup, clock: FakeClock
) -> None:
    fund(node, builder, wallets[:1])
    seal_batches(node, builder, wallets, 1)
    rollup.fail_next, rollup.fail_sent = TimeoutError("no receipt"), True
    batcher = make_batcher(node, rollup, clock)
    errors: list[str | None] = []

    def sleep(seconds: float) -> None:
        errors.append(batcher.last_error)
        if batcher.failures == 0:
            batcher.stop(timeout=0)

    batcher.run(sleep=sleep)  # posts 0 (answer lost), then reconciles: 0 is on L1; posts 1
    assert errors == ["TimeoutError: no receipt", None]
    assert [b.id for b in rollup.batches] == [0, 1] and rollup.posts == 2
    assert statuses(node, 2) == [BatchState.POSTED] * 2
    assert node.store.batch(0).l1_tx_hash == rollup.receipt(0).l1_tx_hash  # type: ignore[union-attr]


def test_failures_back_off_then_recover(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], rollup: FakeRollup, clock: FakeClock
) -> None:
    fund(node, builder, wallets[:1])
    rollup.fail_next = ConnectionError("L1 unreachable")
    batcher = make_batcher(node, rollup, clock)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:
            rollup.fail_next = ConnectionError("still unreachable")
        if len(waits) == 3:
            batcher.stop(timeout=0)

    batcher.run(sleep=sleep)
    assert waits == [0.01, 0.02, 0]  # doubled after the second failure, then the idle poll
    assert batcher.failures == 0 and batcher.last_error is None
    assert statuses(node, 1) == [BatchState.POSTED]


def test_a_restarted_batcher_continues_where_l1_is(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], rollup: FakeRollup, clock: FakeClock
) -> None:
    fund(node, builder, wallets[:1])
    seal_batches(node, builder, wallets, 1)
    make_batcher(node, rollup, clock).run_once()
    seal_batches(node, builder, wallets, 2)
    make_batcher(node, rollup, clock).run_once()  # a new process: reconciles, posts 2 and 3
    assert [b.id for b in rollup.batches] == [0, 1, 2, 3] and rollup.posts == 4


def test_a_batch_from_the_future_waits_for_l1_time(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], rollup: FakeRollup, clock: FakeClock
) -> None:
    fund(node, builder, wallets[:1])
    batch = node.store.batch(0)
    assert batch is not None
    rollup.l1_now = batch.timestamp - 5
    clock.advance(-5)  # our clock is behind the batch too (another machine sealed it)
    batcher = make_batcher(node, rollup, clock)
    assert batcher.run_once().posted == ()
    rollup.l1_now = batch.timestamp
    assert [p.batch_id for p in batcher.run_once().posted] == [0]


def test_l1_holding_another_batch_makes_it_wait_not_halt(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], rollup: FakeRollup, clock: FakeClock
) -> None:
    fund(node, builder, wallets[:1])
    rows = node.batches_to_post()
    other = FakeRollup(now=clock)
    other.batches.append(replace(rows[0], post_root=b"\x07" * 32))
    other.posted_at.append(clock())
    batcher = make_batcher(node, other, clock)
    assert batcher.run_once().posted == ()
    assert batcher.waiting is not None and "another proposer posted" in batcher.waiting
    batcher.run(sleep=lambda s: batcher.stop(timeout=0))  # a pass, no failure: it waits
    assert batcher.failures == 0 and batcher.waiting is not None
    assert statuses(node, 1) == [BatchState.SEALED] and len(other.batches) == 1
    del other.batches[0], other.posted_at[0]  # a fraud proof deleted the other batch
    batcher = make_batcher(node, other, clock)  # (the one above was stopped)
    assert [p.batch_id for p in batcher.run_once().posted] == [0] and batcher.waiting is None


def test_batches_deleted_on_l1_wait_for_the_rollback_then_post_the_same_txs(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], rollup: FakeRollup, clock: FakeClock
) -> None:
    fund(node, builder, wallets[:1])
    seal_batches(node, builder, wallets, 1)
    make_batcher(node, rollup, clock).run_once()
    deleted_txs = [t.hash for t in node.store.block_txs(2)]
    del rollup.batches[1:], rollup.posted_at[1:]  # a fraud proof deleted batch 1
    seal_batches(node, builder, wallets, 1)
    batcher = make_batcher(node, rollup, clock)
    assert batcher.run_once().posted == () and len(rollup.batches) == 1
    assert batcher.waiting is not None and "L1 deleted it" in batcher.waiting
    undone = builder.rollback_to(1, "L1 deleted batch 1")  # what the follower does
    assert undone is not None and undone.batch_ids == (1, 2) and len(undone.requeued) == 2
    assert [t.hash for t in node.mempool.txs][:1] == deleted_txs  # first, in their order
    assert builder.tick() is not None
    builder.seal()
    assert [p.batch_id for p in batcher.run_once().posted] == [1] and batcher.waiting is None
    again = node.store.tx(deleted_txs[0])
    assert again is not None and again.status == "executed" and again.block_number == 2
    assert rollup.batches[1].tx_count == 2 and rollup.batches[1].prev_root == rollup.batches[0].post_root


def test_a_challenge_of_a_batch_that_is_not_ours_is_not_answered(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], rollup: FakeRollup, clock: FakeClock
) -> None:
    fund(node, builder, wallets[:1])
    batcher = make_batcher(node, rollup, clock)
    batcher.run_once()
    rollup.batches[0] = replace(rollup.batches[0], post_root=b"\x09" * 32)  # L1 holds another one
    rollup.challenges[0] = ChallengePhase.AWAITING_REVEAL
    assert batcher.run_once().revealed == () and rollup.revealed == {}


def test_challenges_are_answered_with_the_stored_steps(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], rollup: FakeRollup, clock: FakeClock
) -> None:
    fund(node, builder, wallets[:1])
    seal_batches(node, builder, wallets, 1)
    batcher = make_batcher(node, rollup, clock)
    batcher.run_once()
    rollup.challenges[1] = ChallengePhase.AWAITING_REVEAL  # a challenger challenges batch 1
    clock.advance(10)
    result = batcher.run_once()
    assert result.revealed == (1,) and result.finalized_count == 1  # batch 0 final, 1 held
    assert rollup.revealed[1] == [bytes(s.hash) for s in node.store.steps(1)]
    assert statuses(node, 2) == [BatchState.FINAL, BatchState.CHALLENGED]
    assert batcher.run_once().revealed == ()  # revealed once: now the challenger must prove
    del rollup.challenges[1]  # the challenger did not prove in time: the proposer won
    assert batcher.run_once().finalized_count == 2
    assert statuses(node, 2) == [BatchState.FINAL, BatchState.FINAL]
