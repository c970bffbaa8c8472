"""The block builder: blocks on size and on interval, deposits first in queue order, receipts
persisted, batches sealed by age, count and bytes, and a batch's blocks equal the batch executed at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from protocol import params
from protocol.deposits import Deposit
from protocol.hashing import ZERO32, keccak
from protocol.models import Arch, validate_spec
from protocol.receipts import Reason
from protocol.records import CommitStatus
from protocol.state import State
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, reveal_tx, root_of_test_set
from protocol.transition import BatchContext, StepKind, apply_batch
from protocol.txrules import model_commitment
from protocol.txs import (
    CommitModel,
    CreateModel,
    CreateTask,
    RevealModel,
    Train,
    Transfer,
)
from sequencer.builder import BlockBuilder
from sequencer.core.errors import ApiError
from sequencer.db.models import BatchRow, BatchState, LeafUndoRow, TxStatus
from sequencer.db.store import DepositGapError
from sequencer.executor import ExecutedBlock, InlineExecutor, ProcessExecutor, first_txs
from sequencer.l1 import L1Deposit
from sequencer.mempool import Submission
from sequencer.node import Sequencer
from tests.sequencer.helpers import NOW, FakeClock, fund, make_settings, replay_from_batches, sqlite_url
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE, FEES, fee_of
from tests.support.paper import paper_model_txs
from tests.support.wallets import ETH, Wallet

S = params.FIXED_SCALE


def submit(node: Sequencer, *raws: bytes) -> None:
    node.submit([Submission(r) for r in raws], listed=len(raws) > 1)


def transfers(w: Wallet, to: Wallet, n: int, amount: int = 1) -> list[bytes]:
    return [w.sign(lambda k: Transfer(k, to.address, amount, max_fee_price=FEE_PRICE)) for _ in range(n)]


def test_deposits_run_first_in_queue_order(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet]
) -> None:
    a, b = wallets[0], wallets[1]
    fund(node, builder, [a])
    submit(node, a.sign(lambda n: Transfer(n, b.address, ETH, max_fee_price=FEE_PRICE)))  # b can pay fees
    builder.tick()  # opens batch 1
    node.ingest_deposits([L1Deposit(Deposit(1, b.address, 5), 10), L1Deposit(Deposit(2, a.address, 7), 10)])
    submit(node, *transfers(a, b, 1))
    first = builder.tick()  # the open batch takes the tx; the deposits wait for the next batch
    assert first is not None and (first.batch_id, first.tx_count, first.deposit_count) == (1, 1, 0)
    spend = transfers(b, a, 1)
    submit(node, *spend)  # b spends (and pays its fee from) what the first block gave it
    builder.seal()
    second = builder.tick()
    assert second is not None and (second.tx_count, second.deposit_count) == (1, 2)
    steps = node.store.steps(second.batch_id)
    assert [StepKind(s.kind) for s in steps] == [StepKind.DEPOSIT, StepKind.DEPOSIT, StepKind.TX]
    assert [s.cursor for s in steps] == [1, 2, 3]
    assert node.head.account(b.address).balance == ETH + 1 + 5 - 1 - fee_of(spend[0])
    assert node.head.meta().deposit_count == 3
    assert [d.block_number for d in node.store.deposits_from(0, 10)] == [1, second.number, second.number]
    with pytest.raises(DepositGapError, match="gap"):
        node.ingest_deposits([L1Deposit(Deposit(5, a.address, 1), 11)])
    with pytest.raises(DepositGapError, match="contradicts"):
        node.ingest_deposits([L1Deposit(Deposit(2, a.address, 8), 11)])
    assert node.ingest_deposits([L1Deposit(Deposit(2, a.address, 7), 10)]) == 0  # seen again: skipped


def test_blocks_on_size(tmp_path: Path, clock: FakeClock, wallets: list[Wallet]) -> None:
    node = Sequencer(make_settings(sqlite_url(tmp_path), block_max_txs=5), clock=clock)
    node.start()
    builder = BlockBuilder(node)
    fund(node, builder, wallets[:1])
    submit(node, *transfers(wallets[0], wallets[1], 12))
    sizes = [b.tx_count for b in iter(builder.tick, None)]
    assert sizes == [5, 5, 2]
    node.close()


def test_background_builder_on_size_and_on_interval(tmp_path: Path, wallets: list[Wallet]) -> None:
    node = Sequencer(make_settings(sqlite_url(tmp_path), block_max_txs=5, block_interval_s=0.2))
    node.start()
    builder = BlockBuilder(node)
    fund(node, builder, wallets[:1])
    builder.start()
    try:
        height = node.height
        submit(node, *transfers(wallets[0], wallets[1], 1))  # one tx: waits for the interval
        started = time.monotonic()
        assert node.wait_for_block(height, 5.0)
        assert 0.0 < time.monotonic() - started < 2.0
        node.settings = node.settings.model_copy(update={"block_interval_s": 60.0})
        time.sleep(0.3)  # the loop picks up the long interval
        height = node.height
        submit(node, *transfers(wallets[0], wallets[1], 5))  # a full block: built at once
        assert node.wait_for_block(height, 5.0)
        assert node.store.block(node.height) is not None
        assert len(node.mempool) == 0
    finally:
        builder.stop()
        node.close()


def test_receipts_are_persisted(
    node: Sequencer, builder: BlockBuilder, clock: FakeClock, wallets: list[Wallet]
) -> None:
    a, b = wallets[0], wallets[1]
    fund(node, builder, [a, b])
    now = int(clock())
    create = a.sign(
        lambda n: CreateTask(
            n, Arch.LINREG, 1, 0, 0, ETH, now + 5, now + 50, ZERO32, ZERO32, max_fee_price=FEE_PRICE
        )
    )
    model = a.sign(lambda n: CreateModel(n, 1, 10, IntTensor.vector([0, 0]), max_fee_price=FEE_PRICE))
    submit(node, create, model)
    builder.tick()
    commit = b.sign(lambda n: CommitModel(n, 0, keccak(b"c"), max_fee_price=FEE_PRICE))
    submit(node, commit)  # accepted: the commit deadline is ahead
    clock.advance(40)  # the batch ages out; the next one executes after the deadline
    built = builder.tick()
    assert built is not None and built.timestamp == int(clock())
    rows = {r.hash: r for r in node.store.block_txs(built.number)}
    failed = rows[keccak(commit)]
    assert failed.status == TxStatus.FAILED and failed.reason == Reason.WRONG_PHASE
    assert "commit deadline" in (failed.detail or "")
    ok = node.store.tx(keccak(model))
    assert ok is not None and ok.status == TxStatus.EXECUTED and ok.created_id == 0 and ok.reason == 0
    assert (ok.block_index, ok.first_step, ok.last_step) == (1, 1, 1)
    assert node.head.account(b.address).nonce == 0  # a failed tx changes nothing
    assert node.store.committed_miners(0) == []


def test_a_tx_too_close_to_its_deadline_is_refused_not_acknowledged_to_fail(
    node: Sequencer, builder: BlockBuilder, clock: FakeClock, wallets: list[Wallet]
) -> None:
    """A commit valid at the open batch's time but not at the next batch's (the builder's next
    tick) is refused at admission: acknowledged, it would fail in its block once the batch closed,
    and its sender's next txs with it (their nonces)."""
    a, b = wallets[0], wallets[1]
    fund(node, builder, [a, b])
    now = int(clock())
    create = a.sign(
        lambda n: CreateTask(
            n, Arch.LINREG, 1, 0, 0, ETH, now + 1, now + 50, ZERO32, ZERO32, max_fee_price=FEE_PRICE
        )
    )
    submit(node, create)
    builder.tick()
    node.settings = node.settings.model_copy(update={"block_interval_s": 1.0})  # the next tick: now + 1
    assert node.admission_timestamp() == now and node.latest_block_timestamp(now) == now + 1
    commit = b.sign(lambda n: CommitModel(n, 0, keccak(b"c"), max_fee_price=FEE_PRICE))
    with pytest.raises(ApiError) as refused:
        submit(node, commit)
    assert refused.value.code == "wrong_phase" and "too close to a deadline" in refused.value.message
    assert node.store.tx(keccak(commit)) is None and len(node.mempool) == 0
    node.settings = node.settings.model_copy(update={"block_interval_s": 0.5})  # its block is due this second
    submit(node, commit)
    built = builder.tick()
    assert built is not None and built.timestamp == now
    row = node.store.tx(keccak(commit))
    assert row is not None and row.status == TxStatus.EXECUTED


def competition_txs(sub: Wallet, miner: Wallet, now: int) -> tuple[list[bytes], Callable[[], list[bytes]]]:
    """A LINREG task with a 100-sample test set: create + commit, then reveal test set + model."""
    spec = validate_spec(Arch.LINREG, 2, 0, 0)
    rows = [[i * S, (i % 3) * S] for i in range(100)]
    features, labels = IntTensor.matrix(rows), IntTensor.vector([r[0] + r[1] for r in rows])
    salt, msalt, weights = keccak(b"s"), keccak(b"m"), [S, S, 0]
    commitment = commitment_to_test_set(root_of_test_set(spec, features, labels), 100, salt)
    mc = model_commitment(0, miner.address, weights_hash(weights), msalt)
    before = [
        sub.sign(
            lambda n: CreateTask(
                n, Arch.LINREG, 2, 0, 0, ETH, now + 10, now + 100, commitment, ZERO32, max_fee_price=FEE_PRICE
            )
        ),
        miner.sign(lambda n: CommitModel(n, 0, mc, max_fee_price=FEE_PRICE)),
    ]

    def after() -> list[bytes]:
        return [
            sub.sign(lambda n: reveal_tx(spec, 0, salt, features, labels, n, max_fee_price=FEE_PRICE)),
            miner.sign(
                partial(
                    RevealModel,
                    task_id=0,
                    salt=msalt,
                    weights=IntTensor.vector(weights),
                    max_fee_price=FEE_PRICE,
                )
            ),
        ]

    return before, after


def test_blocks_of_a_batch_equal_the_batch_at_once(
    node: Sequencer, builder: BlockBuilder, clock: FakeClock, wallets: list[Wallet]
) -> None:
    sub, miner, trainer = wallets[0], wallets[1], wallets[2]
    fund(node, builder, [sub, miner, trainer])
    before, after = competition_txs(sub, miner, int(clock()))
    submit(node, *before)
    builder.tick()
    model, points = paper_model_txs(sub, 3)
    submit(node, model, points)
    builder.tick()
    submit(
        node, trainer.sign(lambda n: Train(n, 0, 7, max_fee_price=FEE_PRICE))
    )  # a job of 7 steps in the middle of a batch
    builder.tick()
    submit(node, *transfers(sub, miner, 2))
    builder.tick()
    builder.seal()
    clock.advance(20)  # the commit deadline passes: a new batch, with its own timestamp
    submit(node, *after())  # the model is scored in chunks: a SCORE job
    built = builder.tick()
    assert built is not None and built.batch_id == 2  # 0: the funding deposits
    builder.seal()
    batch = node.store.batch(1)
    assert batch is not None and (batch.first_block, batch.last_block, batch.tx_count) == (2, 5, 7)
    assert batch.step_count == 7 + 7
    kinds = [StepKind(s.kind) for s in node.store.steps(1)]
    assert kinds.count(StepKind.TRAIN_CHUNK) == 7
    steps = node.store.steps(2)
    assert [StepKind(s.kind) for s in steps] == [
        StepKind.TX,
        StepKind.TX,
        StepKind.SCORE_CHUNK,
        StepKind.SCORE_CHUNK,
    ]
    assert [s.cursor for s in steps] == [1, 2, 2, 2]
    # replaying every batch from its data at once gives the same post roots and trace roots
    assert replay_from_batches(node.store).root == node.head.root
    scored = node.head.commitment(0, miner.address)
    assert scored is not None and scored.status == CommitStatus.SCORED and scored.score == 0


def test_batches_seal_on_age_count_and_bytes(
    node: Sequencer, builder: BlockBuilder, clock: FakeClock, wallets: list[Wallet]
) -> None:
    a, b = wallets[0], wallets[1]
    fund(node, builder, [a])
    # age: a batch older than batch_max_age_s is sealed before the next block
    clock.advance(31)
    submit(node, *transfers(a, b, 1))
    built = builder.tick()
    assert built is not None and built.batch_id == 1 and node.store.batch(0).status == BatchState.SEALED  # type: ignore[union-attr]
    # count: a batch is sealed as soon as it holds batch_max_txs
    node.settings = node.settings.model_copy(update={"batch_max_txs": 3})
    submit(node, *transfers(a, b, 4))
    built = builder.tick()
    assert built is not None and built.tx_count == 2 and node.open_batch is None
    assert node.store.batch(1).tx_count == 3  # type: ignore[union-attr]
    built = builder.tick()
    assert built is not None and built.batch_id == 2 and built.tx_count == 2
    # bytes: the next tx that does not fit closes the batch
    node.settings = node.settings.model_copy(update={"batch_max_txs": 100, "batch_max_bytes": 500})
    submit(node, *transfers(a, b, 4))
    sizes = [(x.batch_id, x.tx_count) for x in iter(builder.tick, None)]
    assert sizes == [(2, 2), (3, 2)]  # a transfer is 110 bytes, 113 with its length
    assert all(node.store.batch(i).data_bytes <= 500 for i in (2, 3))  # type: ignore[union-attr]


class CountingExecutor(InlineExecutor):
    """The inline executor, counting the txs it is asked to execute."""

    def __init__(self) -> None:
        self.txs_executed = 0

    def execute(self, *args: Any, **kwargs: Any) -> ExecutedBlock:
        self.txs_executed += len(args[2])
        return super().execute(*args, **kwargs)


def test_batches_seal_before_their_steps_exceed_the_cap(node: Sequencer, wallets: list[Wallet]) -> None:
    executor = CountingExecutor()
    builder = BlockBuilder(node, executor)
    owner, trainer = wallets[0], wallets[1]
    fund(node, builder, [owner, trainer])
    model, points = paper_model_txs(owner, 2)
    submit(node, model, points)
    builder.tick()  # batch 1: 2 steps
    builder.max_steps = 10  # a small cap, so that the rule shows on a few steps

    def train() -> bytes:  # 4 steps: the tx and 3 chunks
        return trainer.sign(lambda n: Train(n, 0, 3, max_fee_price=FEE_PRICE))

    def row(batch_id: int) -> BatchRow:
        found = node.store.batch(batch_id)
        assert found is not None
        return found

    def is_open() -> bool:
        return node.open_batch is not None

    submit(node, train(), train(), train())
    executed = executor.txs_executed
    built = builder.tick()  # 2 + 8 fits, 2 + 12 would not: the block takes two and seals the batch
    assert built is not None and (built.batch_id, built.tx_count, built.step_count) == (1, 2, 8)
    assert not is_open() and row(1).step_count == 10
    built = builder.tick()  # the third goes to a new batch
    assert built is not None and (built.batch_id, built.tx_count, built.step_count) == (2, 1, 4)
    assert executor.txs_executed - executed == 3  # each tx executed once, none again for its block
    submit(node, train())
    built = builder.tick()
    assert built is not None and (built.batch_id, built.step_count) == (2, 4) and is_open()
    submit(node, train())
    built = builder.tick()  # 8 + 4 > 10: batch 2 is sealed without running the tx, which opens batch 3
    assert built is not None and (built.batch_id, built.tx_count) == (3, 1)
    assert row(2).status == BatchState.SEALED and row(2).step_count == 8
    builder.seal()
    assert all(row(i).step_count <= 10 for i in range(4))
    assert executor.txs_executed - executed == 5
    assert replay_from_batches(node.store).root == node.head.root


def test_a_list_of_heavy_txs_costs_one_execution_each(node: Sequencer, wallets: list[Wallet]) -> None:
    """The work of a list grows linearly: a block never executes a tx that another block executes
    again (the old builder ran every pending tx, kept what fit and ran that again, block after block)."""
    executor = CountingExecutor()
    builder = BlockBuilder(node, executor)
    owner, trainer = wallets[0], wallets[1]
    fund(node, builder, [owner, trainer])
    model, points = paper_model_txs(owner, 2)
    submit(node, model, points)
    builder.tick()
    builder.seal()
    builder.max_steps = 7  # one 6-step Train a batch
    trains = [trainer.sign(lambda n: Train(n, 0, 5, max_fee_price=FEE_PRICE)) for _ in range(6)]
    submit(node, *trains)
    executed = executor.txs_executed
    blocks = []
    while (built := builder.tick()) is not None:
        blocks.append(built)
    assert [b.tx_count for b in blocks] == [1] * 6
    assert len({b.batch_id for b in blocks}) == 6
    assert executor.txs_executed - executed == 6  # the old builder: 6 + 5 + ... + 1, and 6 again


def test_a_block_cut_at_the_step_cap_is_the_prefix_executed_alone(wallets: list[Wallet]) -> None:
    owner, trainer = wallets[0], wallets[1]
    deposits = [Deposit(0, owner.address, 100 * ETH), Deposit(1, trainer.address, 100 * ETH)]
    setup = paper_model_txs(owner, 2)
    txs = [*setup, *(trainer.sign(lambda n: Train(n, 0, 3, max_fee_price=FEE_PRICE)) for _ in range(3))]
    ctx = BatchContext(DOMAIN, FEES, int(NOW))
    whole = apply_batch(State(), deposits, txs, ctx)
    for count in range(len(txs) + 1):
        cut, alone = first_txs(whole, count), apply_batch(State(), deposits, txs[:count], ctx)
        assert (cut.post_root, cut.trace_root, cut.receipts, cut.txs) == (
            alone.post_root,
            alone.trace_root,
            alone.receipts,
            alone.txs,
        )
        assert [s.hash for s in cut.steps] == [s.hash for s in alone.steps]
    block = InlineExecutor().execute(State(), deposits, txs, ctx, max_steps=2 + 2 + 4 + 3)
    assert len(block.receipts) == 3 and len(block.steps) == 2 + 2 + 4  # the second Train would pass the cap


def test_state_of_past_batches_and_undo_pruning(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], clock: FakeClock
) -> None:
    a, b = wallets[0], wallets[1]
    fund(node, builder, [a])
    for _ in range(3):
        builder.seal()
        submit(node, *transfers(a, b, 2))
        builder.tick()
    builder.seal()
    restarted = Sequencer(node.settings, clock=clock)  # no snapshots in memory: rebuilt from undo entries
    restarted.start()
    for batch_id in range(4):
        row = restarted.store.batch(batch_id)
        assert row is not None and restarted.state_at_batch(batch_id).root == row.post_root
    restarted.set_batch_status(2, BatchState.FINAL)
    with restarted.db.read() as s:
        assert s.scalar(select(func.min(LeafUndoRow.batch_id))) == 3
    assert restarted.state_at_batch(3).root == restarted.head.root
    with pytest.raises(Exception, match="older than the last final batch"):
        Sequencer(node.settings, clock=clock).state_at_batch(1)
    restarted.close()


def test_a_failed_block_write_changes_nothing(
    node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = wallets[0], wallets[1]
    fund(node, builder, [a])
    submit(node, *transfers(a, b, 3))
    head, height = node.head, node.height

    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(node.store, "write_block", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        builder.tick()
    assert (node.head, node.height, len(node.mempool)) == (head, height, 3)
    monkeypatch.undo()
    built = builder.tick()
    assert built is not None and built.tx_count == 3 and node.head.account(b.address).balance == 3


def test_the_process_executor_agrees_and_survives_a_crash(
    tmp_path: Path, clock: FakeClock, wallets: list[Wallet]
) -> None:
    node = Sequencer(make_settings(sqlite_url(tmp_path), executor="process"), clock=clock)
    node.start()
    builder = BlockBuilder(node)
    assert isinstance(builder.executor, ProcessExecutor)
    try:
        a, b = wallets[:2]
        fund(node, builder, [a])  # the fresh worker has no state: it is sent the leaves
        submit(node, *transfers(a, b, 3))
        assert builder.tick() is not None
        builder.executor._proc.kill()  # the worker dies: the next block starts another
        builder.executor._proc.join()
        submit(node, *transfers(a, b, 2))
        built = builder.tick()
        assert built is not None and built.tx_count == 2
        builder.seal()
        assert replay_from_batches(node.store).root == node.head.root
        assert node.head.account(b.address).balance == 5
    finally:
        builder.stop()
        node.close()
