"""The block builder: pending txs (and L1 deposits) into blocks, blocks into batches.

A *batch* is what goes to L1 (docs/spec.md section 4): one timestamp, its deposits, then its txs,
one trace. A *block* is the unit the builder executes and commits, every `block_interval_s` or as
soon as `block_max_txs` are pending; it is how fast a tx gets its receipt. The blocks of a batch
therefore share the batch's timestamp, and deposits enter only in the first block of a batch, so
that executing a batch's blocks one after another is the same computation as executing the batch
at once (same step roots; the builder shifts each block's cursors by the inputs before it, so the
stored step hashes are the batch's). A batch is sealed when it is `batch_max_age_s` old, when the
next pending tx does not fit its `batch_max_txs` or `batch_max_bytes`, or once it is full; also
when the next txs' steps would take it past `MAX_BATCH_STEPS`. A block takes the pending txs whose
steps, as their dry-run measured them (`Mempool.steps_of`), fit the batch; it executes them once,
and if one took more steps than measured (the state moved under it), the block is cut after the
last tx that fits (`sequencer.executor.first_txs`, no second execution) and the rest waits for the
next batch. So a list of heavy txs costs one execution each, not one per block it waits through.
Deposits wait for the next batch (at most `batch_max_age_s`).

`tick()` builds at most one block. It plans under the sequencer's lock (a snapshot of the state,
the pending prefix, the deposits), executes `apply_batch` outside it (admission goes on meanwhile),
writes the block in one database transaction, and only then moves the in-memory state, under the
lock again.

Following L1 (`sequencer.follower`) goes through the builder too, since it moves the head:
`rollback_to(batch_id)` undoes every batch from one on and requeues their txs (the next blocks
execute them again), and `adopt_foreign(derived)` stores another proposer's VALID batch as the next
one, after undoing whatever of ours was at its index or later (our blocks are rebuilt on top of it).
Both hold the build lock, so no block is being executed meanwhile.

An armed fault drill (`sequencer.faults`, unsafe, devnets only) is hooked at one place: the block
just executed, before it is written.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, replace

from protocol.codec import decode_tx
from protocol.deposits import Deposit
from protocol.derive import Derived, Verdict
from protocol.params import MAX_BATCH_STEPS, MAX_JOB_STEPS
from protocol.state import State
from protocol.transition import BatchContext, StepKind, trace_leaf
from protocol.txs import CommitModel, TxType
from sequencer.core.config import BATCH_TX_OVERHEAD, Settings
from sequencer.core.errors import SequencerError
from sequencer.db.models import BatchRow, BatchState, BlockRow, Origin, TxStatus
from sequencer.db.store import BlockWrite, Rollback, TxReceiptWrite
from sequencer.executor import ExecutedBlock, Executor, ProcessExecutor, make_executor
from sequencer.faults import FaultDrill, Faulted, FaultKind
from sequencer.foreign import foreign_block, tx_hashes
from sequencer.mempool import PendingTx
from sequencer.node import OpenBatch, Sequencer
from service.loop import Loop

log = logging.getLogger("sequencer.builder")


@dataclass(frozen=True, slots=True)
class BuiltBlock:
    """What one `tick` produced."""

    number: int
    batch_id: int
    timestamp: int
    tx_count: int
    deposit_count: int
    step_count: int
    post_root: bytes
    seconds: float


@dataclass(frozen=True, slots=True)
class _Plan:
    number: int
    head: State
    batch: OpenBatch  # as it is before this block
    is_new: bool
    deposits: tuple[Deposit, ...]
    txs: tuple[PendingTx, ...]


class BlockBuilder:
    """Builds blocks for one `Sequencer`; `start()` runs it on a thread."""

    def __init__(
        self, node: Sequencer, executor: Executor | None = None, *, fault: FaultDrill | None = None
    ) -> None:
        self.node = node
        # A challenged batch's step hashes are revealed in one L1 tx: a batch holds at most
        # MAX_BATCH_STEPS steps, and a fresh batch takes few enough deposits to fit any one tx after.
        self.max_steps = MAX_BATCH_STEPS
        self.max_deposits = MAX_BATCH_STEPS - 1 - MAX_JOB_STEPS
        self.executor = executor or make_executor(node.settings.executor)
        self.fault = fault if fault is not None else armed_fault(node)
        if self.fault is not None and not self.fault.spent:
            log.warning(
                "UNSAFE FAULT DRILL ARMED: this sequencer will post a WRONG batch once (%s); test use "
                "only, on a devnet",
                self.fault.describe(),
            )
        self._build_lock = threading.Lock()
        self._loop = Loop("block-builder", self._run)
        self._stop = self._loop.stopping
        self.failures = 0  # consecutive failed ticks
        self.last_error: str | None = None

    # --- the loop -----------------------------------------------------------------------------------

    def start(self) -> None:
        if isinstance(self.executor, ProcessExecutor):
            self.executor.start()
        self._loop.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.node.wake.set()  # (the loop waits on the node's wake-up, not on `_stop`)
        self._loop.stop(timeout)
        self.executor.close()

    @property
    def settings(self) -> Settings:
        return self.node.settings

    @property
    def alive(self) -> bool:
        return self._loop.alive

    def _run(self) -> None:
        while not self._stop.is_set():
            interval = self.settings.block_interval_s
            self.node.wake.wait(interval)
            self.node.wake.clear()
            if self._stop.is_set():
                break
            try:
                while self.tick() is not None and len(self.node.mempool) >= self.settings.block_max_txs:
                    pass
                self.failures = 0
                self.last_error = None
            except Exception as exc:  # keep serving reads; /readyz reports the failure
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("block builder tick failed (%d in a row)", self.failures)
                self._stop.wait(min(30.0, interval * 2**self.failures))

    # --- one block ----------------------------------------------------------------------------------

    def tick(self, now: float | None = None) -> BuiltBlock | None:
        """Seal an old or full batch, then build one block if anything is pending."""
        with self._build_lock:
            if now is None:
                now = self.node.clock()
            plan = self._plan(now)
            if plan is None:
                return None
            return self._execute(plan, now)

    def seal(self, now: float | None = None) -> int | None:
        """Seal the open batch now, if there is one; its id."""
        with self._build_lock, self.node.lock:
            batch = self.node.open_batch
            if batch is None:
                return None
            self._seal(batch, self.node.clock() if now is None else now)
            return batch.id

    def _fits(self, batch: OpenBatch, count: int, size: int, tx: PendingTx) -> bool:
        s = self.settings
        return count + 1 <= s.batch_max_txs and size + BATCH_TX_OVERHEAD + len(tx.raw) <= s.batch_max_bytes

    def _take(self, batch: OpenBatch, deposits: int = 0) -> tuple[PendingTx, ...]:
        """The pending txs the next block of `batch` takes: durable, of the batch's time, within its
        count, bytes and (by their measured steps) step cap; a fresh batch takes at least one."""
        count, size = batch.tx_count, batch.data_bytes
        steps = batch.step_count + deposits
        out: list[PendingTx] = []
        durable = self.node.durable_seq
        mempool = self.node.mempool
        for tx in mempool.txs[: self.settings.block_max_txs]:
            if tx.seq > durable or tx.replay_ts != batch.replay_ts or not self._fits(batch, count, size, tx):
                break  # (a tx a rollback undid runs in a batch of its old time, the others after)
            steps += mempool.steps_of(tx)
            if steps > self.max_steps and (out or batch.tx_count):
                break
            out.append(tx)
            count += 1
            size += BATCH_TX_OVERHEAD + len(tx.raw)
        return tuple(out)

    def _plan(self, now: float) -> _Plan | None:
        node = self.node
        # only this builder moves the head (under the build lock): the queue is read before the lock
        start = node.head.meta().deposit_count
        rows = node.store.deposits_from(start, min(self.settings.block_max_txs, self.max_deposits))
        with node.lock:
            batch = node.open_batch
            if batch is not None and now - batch.opened_at >= self.settings.batch_max_age_s:
                self._seal(batch, now)
                batch = None
            if batch is not None:
                txs = self._take(batch)
                if txs:
                    return _Plan(node.height + 1, node.head, batch, False, (), txs)
                if not node.mempool.txs or node.mempool.txs[0].seq > node.durable_seq:
                    return None
                self._seal(batch, now)  # the next tx does not fit: close the batch
            head = node.head
            deposits = tuple(Deposit(r.index, r.recipient, r.amount) for r in rows)
            assert all(d.index == start + i for i, d in enumerate(deposits)), "deposit queue has a gap"
            pending = node.mempool.txs
            replay = pending[0].replay_ts if pending and pending[0].seq <= node.durable_seq else None
            fresh = OpenBatch(
                id=node.next_batch_id,
                timestamp=max(int(now) if replay is None else replay, node.batch_ts_floor),
                opened_at=now,
                prev_root=head.root,
                deposit_start=start,
                replay_ts=replay,
            )
            txs = self._take(fresh, len(deposits))
            if not deposits and not txs:
                return None
            return _Plan(node.height + 1, head, fresh, True, deposits, txs)

    def _execute(self, plan: _Plan, now: float) -> BuiltBlock | None:
        """Execute a planned block outside the sequencer's lock, write it in one transaction, then
        move the in-memory head under the lock; None when no tx of it fit its batch (then sealed)."""
        batch = plan.batch
        ctx = BatchContext(self.node.domain, self.node.fees, batch.timestamp)
        executed = self._run_block(plan, ctx, now)
        if executed is None:
            return None
        plan, result, full = executed
        raws = [t.raw for t in plan.txs]
        result, faulted, meta = self._drill(plan, raws, ctx, result)
        changes = list(result.changes)
        undo = [(k, plan.head.get(k)) for k, _ in changes if k not in batch.undo_keys]
        steps, kinds = _step_rows(plan, result)
        receipts, commitments = _receipt_writes(plan, result)
        after = _batch_after(plan, raws, len(steps), undo)
        block = _block_write(plan, after, result, now, changes, undo, steps, receipts, commitments, meta)
        self.node.store.write_block(block)
        if faulted is not None:
            self._fault_fired(plan, faulted)
        size = self._advance(plan, after, result.post_state, faulted is not None, full, now)
        self._record(plan, receipts, kinds, len(steps), result.seconds, size)
        return BuiltBlock(
            plan.number,
            batch.id,
            batch.timestamp,
            len(plan.txs),
            len(plan.deposits),
            len(steps),
            result.post_state.root,
            result.seconds,
        )

    def _run_block(
        self, plan: _Plan, ctx: BatchContext, now: float
    ) -> tuple[_Plan, ExecutedBlock, bool] | None:
        """Execute the block within the steps left in its batch: the plan (cut after the last tx that
        fits, if one took more steps than its dry-run), the result and whether it was cut. None when
        no tx fits: the batch is sealed and the next block, in a new batch, is built at once."""
        node, batch = self.node, plan.batch
        raws = [t.raw for t in plan.txs]
        room = self.max_steps - batch.step_count
        result = self.executor.execute(plan.head, plan.deposits, raws, ctx, room)
        fit = len(result.receipts)
        full = fit < len(plan.txs)
        if full:  # a tx took more steps than its dry-run: the block was cut after the last that fits
            if fit == 0:
                assert not plan.is_new, "a fresh batch always holds its deposits and one tx"
                with node.lock:
                    self._seal(batch, now)
                node.wake.set()  # build the next block, in a new batch, at once
                return None
            plan = replace(plan, txs=plan.txs[:fit])
        return plan, result, full

    def _drill(
        self, plan: _Plan, raws: list[bytes], ctx: BatchContext, result: ExecutedBlock
    ) -> tuple[ExecutedBlock, Faulted | None, dict[str, str]]:
        """The fault drill's one hook: the honest block, or the wrong one with the database meta
        that marks the drill spent."""
        meta: dict[str, str] = {}
        faulted = None
        if self.fault is not None:
            faulted = self.fault.apply(plan.batch.id, plan.head, plan.deposits, raws, ctx, result)
            if faulted is not None:
                result = faulted.block
                meta[self.fault.spent_key] = f"batch {plan.batch.id}, block {plan.number}"
        return result, faulted, meta

    def _fault_fired(self, plan: _Plan, faulted: Faulted) -> None:
        assert self.fault is not None
        self.fault.spent = True
        log.warning(
            "UNSAFE FAULT DRILL FIRED: block %d of batch %d commits a WRONG result (%s); the batch is "
            "sealed now and will be posted as it is",
            plan.number,
            plan.batch.id,
            faulted.what,
        )

    def _advance(
        self, plan: _Plan, after: OpenBatch, post: State, faulted: bool, full: bool, now: float
    ) -> int:
        """Move the head to the written block (under the sequencer's lock): the mempool drops its
        txs and moves its pending state on, and the batch is sealed if it is full. The mempool's
        size after it."""
        node, batch = self.node, plan.batch
        with node.lock:
            node.head = post
            node.height = plan.number
            node.open_batch = after
            if plan.is_new:
                node.next_batch_id = batch.id + 1
                node.batch_ts_floor = batch.timestamp
            node.mempool.drop_executed(plan.txs)
            # The txs still pending run at this batch's time, except after a batch that re-executed
            # rolled-back txs at their old time: new txs never join it, they run in a batch of now.
            ts = batch.timestamp if batch.replay_ts is None else max(int(now), batch.timestamp)
            if faulted or node.mempool.stale(ts):
                node.mempool.rebuild(post, ts)  # a faulted head is not the dry-runs' one
            elif plan.deposits:
                node.mempool.credit(plan.deposits, ts)
            if full or faulted or after.tx_count >= self.settings.batch_max_txs:
                self._seal(after, now)
            elif self._take(after) == () and node.mempool.txs and node.mempool.txs[0].seq <= node.durable_seq:
                self._seal(after, now)  # the next pending tx does not fit: close the batch now
            node.publish()
            return len(node.mempool)

    def _record(
        self,
        plan: _Plan,
        receipts: list[TxReceiptWrite],
        kinds: Counter[StepKind],
        step_count: int,
        seconds: float,
        size: int,
    ) -> None:
        """After a block: the measured step time, the waiters woken, the metrics and the log."""
        node = self.node
        if step_count:
            node.step_seconds = seconds / step_count
        node.notify_block()
        m = node.metrics
        m.block_height.set(plan.number)
        m.mempool_size.set(size)
        if node.open_batch is not None:
            m.batch_height.labels(BatchState.OPEN).set(plan.batch.id)
        ok = sum(r.status == TxStatus.EXECUTED for r in receipts)
        m.txs_executed.labels("success").inc(ok)
        m.txs_executed.labels("failure").inc(len(receipts) - ok)
        if kinds:
            m.observe_block(seconds, kinds)
        log.debug(
            "block %d: %d txs, %d deposits, %d steps in %.3fs",
            plan.number,
            len(plan.txs),
            len(plan.deposits),
            step_count,
            seconds,
        )

    # --- following L1 -------------------------------------------------------------------------------

    def rollback_to(self, batch_id: int, reason: str) -> Rollback | None:
        """Undo every batch from `batch_id` on (L1 deleted them, or it holds another batch at
        `batch_id`): the state goes back to batch `batch_id - 1`'s post-state, and their local txs
        are pending again, ahead of the others, in their order; the next blocks execute them again
        (one that became invalid gets a failed receipt with its reason). None when there is nothing
        from `batch_id` on. `reason` goes to the log and the sync log."""
        with self._build_lock:
            return self._rollback(batch_id, reason)

    def adopt_foreign(self, derived: Derived, *, origin: str = Origin.FOREIGN, note: str = "") -> None:
        """Store the VALID batch L1 holds at `derived.batch.index` (derived on our state before it)
        as our batch of that id: first undo ours from that index on, then write it as one block,
        take out of the mempool our txs it executed, and rebuild the pending state on its post-state.
        `origin` is `local` when our own proposer posted it."""
        batch, result = derived.batch, derived.result
        if result is None or derived.verdict is not Verdict.VALID:
            raise SequencerError(f"batch {batch.index} is {derived.verdict}: only a valid batch is adopted")
        node = self.node
        with self._build_lock:
            if node.next_batch_id > batch.index:
                self._rollback(batch.index, f"L1 holds another batch at {batch.index}: {note}")
            if node.next_batch_id != batch.index or node.head.root != batch.prev_root:
                raise SequencerError(
                    f"L1 batch {batch.index} builds on 0x{batch.prev_root.hex()}, this sequencer is at batch "
                    f"{node.next_batch_id} with root 0x{node.head.root.hex()}: derive it on our state first"
                )
            with node.lock:
                node.wait_durable()  # every accepted tx is stored: the lookup below sees them all
                block = foreign_block(
                    derived,
                    number=node.height + 1,
                    known=node.store.txs_by_hash(tx_hashes(derived)),
                    next_seq=node.next_seq,
                    origin=origin,
                    now=node.clock(),
                    note=note,
                )
                node.store.write_block(block.write)
                node.next_seq += block.seqs_used
                node.durable_seq = node.next_seq - 1  # the foreign rows are stored, the rest was already
                node.head = result.post_state
                node.height = block.write.block.number
                node.next_batch_id = batch.index + 1
                node.batch_ts_floor = max(node.batch_ts_floor, result.context.timestamp)
                node.remember(batch.index, result.post_state)
                node.mempool.remove(block.executed)
                node.mempool.rebuild(node.head, node.admission_timestamp())
                node.publish()
                size = len(node.mempool)
        node.notify_block()
        m = node.metrics
        m.block_height.set(node.height)
        m.mempool_size.set(size)
        m.batch_height.labels(BatchState.POSTED).set(batch.index)
        m.l1_sync.labels("adopt").inc()
        log.warning(
            "adopted L1 batch %d by %s (%d txs, %d of them ours): %s",
            batch.index,
            batch.proposer or "an unknown proposer",
            len(result.txs),
            len(block.executed),
            note,
        )

    def _rollback(self, batch_id: int, reason: str) -> Rollback | None:
        node = self.node
        if batch_id >= node.next_batch_id:
            return None
        state = State() if batch_id == 0 else node.state_at_batch(batch_id - 1)
        with node.lock:
            undone = node.store.rollback_to(batch_id, node.clock(), reason)
            last = node.store.last_block()
            kept_root = State().root if last is None else last.post_root
            if kept_root != state.root:
                raise SequencerError(
                    f"after the rollback to batch {batch_id} the last block has root 0x{kept_root.hex()}, "
                    f"the undo log gives 0x{state.root.hex()}: the database is inconsistent"
                )
            node.reset_head(state, undone)
            size = len(node.mempool)
        node.notify_block()
        node.metrics.block_height.set(node.height)
        node.metrics.mempool_size.set(size)
        node.metrics.batch_height.labels(BatchState.OPEN).set(-1)
        node.metrics.l1_sync.labels("rollback").inc()
        log.warning(
            "rolled back batches %s (%d blocks): %d txs of ours pending again, %d foreign txs dropped; "
            "back at batch %d, root 0x%s: %s",
            ", ".join(map(str, undone.batch_ids)) or "none",
            undone.blocks,
            len(undone.requeued),
            undone.dropped,
            batch_id - 1,
            state.root.hex(),
            reason,
        )
        return undone

    def _seal(self, batch: OpenBatch, now: float) -> None:
        """Close `batch` (caller holds the sequencer's lock; the head is the batch's post-state)."""
        node = self.node
        row = node.store.seal_batch(batch.id, now)
        assert row.post_root == node.head.root
        node.open_batch = None
        node.remember(batch.id, node.head)
        node.metrics.batch_height.labels(BatchState.SEALED).set(batch.id)
        node.metrics.batch_height.labels(BatchState.OPEN).set(-1)
        log.info(
            "sealed batch %d: %d txs, %d deposits, %d steps",
            batch.id,
            row.tx_count,
            row.deposit_count,
            row.step_count,
        )


def _step_rows(plan: _Plan, result: ExecutedBlock) -> tuple[list[dict[str, object]], Counter[StepKind]]:
    """The block's steps as rows of its batch's trace (cursors shifted by the batch's inputs before
    the block, each with its trace leaf), and how many of each kind."""
    batch = plan.batch
    input_offset = batch.input_count
    step_offset = batch.step_count
    steps: list[dict[str, object]] = []
    kinds: Counter[StepKind] = Counter()
    for index, s in enumerate(result.steps):
        cursor = s.cursor + input_offset
        kinds[s.kind] += 1
        steps.append(
            {
                "batch_id": batch.id,
                "batch_index": step_offset + index,
                "block_number": plan.number,
                "kind": int(s.kind),
                "state_root": s.state_root,
                "cursor": cursor,
                "job_hash": s.job_hash,
                "hash": trace_leaf(s.state_root, cursor, s.job_hash),
            }
        )
    return steps, kinds


def _receipt_writes(
    plan: _Plan, result: ExecutedBlock
) -> tuple[list[TxReceiptWrite], list[tuple[int, bytes]]]:
    """The block's receipts as the store writes them, and the (task, miner) of each model commitment
    that succeeded."""
    receipts = []
    commitments = []
    for receipt, tx in zip(result.receipts, plan.txs, strict=True):
        receipts.append(TxReceiptWrite.of(tx.seq, receipt))
        if receipt.success and tx.tx_type == TxType.COMMIT_MODEL:
            commit = decode_tx(tx.raw).tx
            assert isinstance(commit, CommitModel)
            commitments.append((commit.task_id, tx.sender))
    return receipts, commitments


def _batch_after(
    plan: _Plan, raws: list[bytes], step_count: int, undo: list[tuple[bytes, bytes | None]]
) -> OpenBatch:
    """The open batch with the block added."""
    batch = plan.batch
    return replace(
        batch,
        deposit_count=batch.deposit_count + len(plan.deposits),
        tx_count=batch.tx_count + len(plan.txs),
        data_bytes=batch.data_bytes + sum(BATCH_TX_OVERHEAD + len(r) for r in raws),
        step_count=batch.step_count + step_count,
        first_block=plan.number if batch.first_block is None else batch.first_block,
        undo_keys=batch.undo_keys | {k for k, _ in undo},
    )


def _block_write(
    plan: _Plan,
    after: OpenBatch,
    result: ExecutedBlock,
    now: float,
    changes: list[tuple[bytes, bytes]],
    undo: list[tuple[bytes, bytes | None]],
    steps: list[dict[str, object]],
    receipts: list[TxReceiptWrite],
    commitments: list[tuple[int, bytes]],
    meta: dict[str, str],
) -> BlockWrite:
    """The block's one database transaction: its row (and a new batch's), the batch's update, the
    receipts, leaves, undo entries, steps, consumed deposits, commitments and meta."""
    batch, post = plan.batch, result.post_state
    new_batch = None
    if plan.is_new:
        new_batch = BatchRow(
            id=batch.id,
            status=BatchState.OPEN,
            timestamp=batch.timestamp,
            tx_count=0,
            data_bytes=batch.data_bytes,
            deposit_start=batch.deposit_start,
            deposit_count=0,
            step_count=0,
            prev_root=batch.prev_root,
            opened_at=batch.opened_at,
        )
    block = BlockRow(
        number=plan.number,
        batch_id=batch.id,
        timestamp=batch.timestamp,
        pre_root=plan.head.root,
        post_root=post.root,
        trace_root=result.trace_root,
        tx_count=len(plan.txs),
        deposit_start=batch.deposit_start + batch.deposit_count,
        deposit_end=batch.deposit_start + after.deposit_count,
        input_offset=batch.input_count,
        step_offset=batch.step_count,
        step_count=len(steps),
        created_at=now,
        exec_seconds=result.seconds,
    )
    return BlockWrite(
        block=block,
        new_batch=new_batch,
        batch_update={
            "first_block": after.first_block,
            "last_block": plan.number,
            "tx_count": after.tx_count,
            "data_bytes": after.data_bytes,
            "deposit_count": after.deposit_count,
            "step_count": after.step_count,
            "post_root": post.root,
        },
        receipts=receipts,
        leaves=changes,
        undo=undo,
        steps=steps,
        deposit_indices=range(block.deposit_start, block.deposit_end),
        commitments=commitments,
        meta=meta,
    )


def armed_fault(node: Sequencer) -> FaultDrill | None:
    """The fault drill the settings arm (`MLROLLUP_UNSAFE_FAULT`), spent if the database says so."""
    kind = node.settings.unsafe_fault
    if kind is None:
        return None
    drill = FaultDrill(FaultKind(kind), node.settings.unsafe_fault_at)
    drill.spent = node.store.meta(drill.spent_key) is not None
    if drill.spent:
        log.warning("the unsafe fault drill %s was spent already: executing honestly", kind)
    return drill
