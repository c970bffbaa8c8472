"""The batch posting daemon against an in-memory Rollup that checks order like the contract:
exactly once and in order across failures and restarts, waiting for L1 time, finality, halts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from protocol.txs import Transfer
from sequencer.batcher import Batcher, BatcherConfig, BatcherHalted
from sequencer.builder import BlockBuilder
from sequencer.db.models import BatchStatus
from sequencer.l1 import BatchPoster, ChallengePhase
from sequencer.mempool import Submission
from sequencer.node import Sequencer
from tests.protocol.harness import Wallet
from tests.sequencer.helpers import FakeClock, FakeRollup, fund


def seal_batches(node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], count: int) -> None:
    a, b = wallets[:2]
    for _ in range(count):
        node.submit([Submission(a.sign(lambda n: Transfer(n, b.address, 1)))])
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
    assert statuses(node, 3) == [BatchStatus.POSTED] * 3
    row = node.store.batch(1)
    assert row is not None and row.gas_used == rollup.receipt(1).gas_used and row.l1_block == 101
    assert node.metrics.l1_gas_spent._value.get() == sum(rollup.receipt(i).gas_used for i in range(3))
    clock.advance(10)
    assert batcher.run_once().finalized_count == 3
    assert statuses(node, 3) == [BatchStatus.FINAL] * 3
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
    assert statuses(node, 2) == [BatchStatus.POSTED] * 2
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
    assert statuses(node, 1) == [BatchStatus.POSTED]


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


def test_l1_holding_another_batch_halts(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], rollup: FakeRollup, clock: FakeClock
) -> None:
    fund(node, builder, wallets[:1])
    rows = node.batches_to_post()
    other = FakeRollup(now=clock)
    other.batches.append(replace(rows[0], post_root=b"\x07" * 32))
    other.posted_at.append(clock())
    with pytest.raises(BatcherHalted, match="another proposer posted"):
        make_batcher(node, other, clock).run_once()
    batcher = make_batcher(node, other, clock)
    batcher.run(sleep=lambda s: batcher.stop(timeout=0))
    assert batcher.halted is not None and statuses(node, 1) == [BatchStatus.SEALED]


def test_batches_deleted_on_l1_halt_posting(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], rollup: FakeRollup, clock: FakeClock
) -> None:
    fund(node, builder, wallets[:1])
    seal_batches(node, builder, wallets, 1)
    make_batcher(node, rollup, clock).run_once()
    del rollup.batches[1:], rollup.posted_at[1:]  # a fraud proof deleted batch 1
    seal_batches(node, builder, wallets, 1)
    with pytest.raises(BatcherHalted, match="L1 deleted it"):
        make_batcher(node, rollup, clock).run_once()
    assert len(rollup.batches) == 1


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
    assert statuses(node, 2) == [BatchStatus.FINAL, BatchStatus.CHALLENGED]
    assert batcher.run_once().revealed == ()  # revealed once: now the challenger must prove
    del rollup.challenges[1]  # the challenger did not prove in time: the proposer won
    assert batcher.run_once().finalized_count == 2
    assert statuses(node, 2) == [BatchStatus.FINAL, BatchStatus.FINAL]
