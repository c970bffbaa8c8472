"""The block builder: pending txs (and L1 deposits) into blocks, blocks into batches.

A *batch* is what goes to L1 (docs/spec.md section 4): one timestamp, its deposits, then its txs,
one trace. A *block* is the unit the builder executes and commits, every `block_interval_s` or as
soon as `block_max_txs` are pending; it is how fast a tx gets its receipt. The blocks of a batch
therefore share the batch's timestamp, and deposits enter only in the first block of a batch, so
that executing a batch's blocks one after another is the same computation as executing the batch
at once (same step roots; the builder shifts each block's cursors by the inputs before it, so the
stored step hashes are the batch's). A batch is sealed when it is `batch_max_age_s` old, when the
next pending tx does not fit its `batch_max_txs` or `batch_max_bytes`, or once it is full; also
when the next txs' steps would take it past `MAX_BATCH_STEPS` (a block's txs are executed, and
those whose steps do not fit are executed again in the next batch: a tx's step count is known only
once it ran). Deposits wait for the next batch (at most `batch_max_age_s`).

`tick()` builds at most one block. It plans under the sequencer's lock (a snapshot of the state,
the pending prefix, the deposits), executes `apply_batch` outside it (admission goes on meanwhile),
writes the block in one database transaction, and only then moves the in-memory state, under the
lock again.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, replace

from protocol.codec import decode_tx
from protocol.deposits import Deposit
from protocol.hashing import keccak
from protocol.params import MAX_BATCH_STEPS, MAX_JOB_STEPS
from protocol.state import State
from protocol.transition import BatchContext, StepKind
from protocol.txs import CommitModel, TxType
from sequencer.core.config import BATCH_TX_OVERHEAD, Settings
from sequencer.db.models import BatchRow, BatchStatus, BlockRow, TxStatus
from sequencer.db.store import BlockWrite, TxReceiptWrite
from sequencer.executor import Executor, ProcessExecutor, make_executor
from sequencer.mempool import PendingTx
from sequencer.node import OpenBatch, Sequencer

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

    def __init__(self, node: Sequencer, executor: Executor | None = None) -> None:
        self.node = node
        # A challenged batch's step hashes are revealed in one L1 tx: a batch holds at most
        # MAX_BATCH_STEPS steps, and a fresh batch takes few enough deposits to fit any one tx after.
        self.max_steps = MAX_BATCH_STEPS
        self.max_deposits = MAX_BATCH_STEPS - 1 - MAX_JOB_STEPS
        self.executor = executor or make_executor(node.settings.executor)
        self._build_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0  # consecutive failed ticks
        self.last_error: str | None = None

    # --- the loop -----------------------------------------------------------------------------------

    def start(self) -> None:
        if isinstance(self.executor, ProcessExecutor):
            self.executor.start()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="block-builder", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.node.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.executor.close()

    @property
    def settings(self) -> Settings:
        return self.node.settings

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

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

    def _take(self, batch: OpenBatch) -> tuple[PendingTx, ...]:
        count, size = batch.tx_count, batch.data_bytes
        out: list[PendingTx] = []
        durable = self.node.durable_seq
        for tx in self.node.mempool.txs[: self.settings.block_max_txs]:
            if tx.seq > durable or not self._fits(batch, count, size, tx):
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
            fresh = OpenBatch(
                id=node.next_batch_id,
                timestamp=max(int(now), node.batch_ts_floor),
                opened_at=now,
                prev_root=head.root,
                deposit_start=start,
            )
            txs = self._take(fresh)
            if not deposits and not txs:
                return None
            return _Plan(node.height + 1, head, fresh, True, deposits, txs)

    def _execute(self, plan: _Plan, now: float) -> BuiltBlock | None:
        node, batch = self.node, plan.batch
        raws = [t.raw for t in plan.txs]
        ctx = BatchContext(node.domain, batch.timestamp)
        result = self.executor.execute(plan.head, plan.deposits, raws, ctx)
        room = self.max_steps - batch.step_count
        full = len(result.steps) > room
        if full:  # keep the txs whose steps fit; the others go to the next batch
            fit = sum(1 for r in result.receipts if r.last_step < room)
            if fit == 0:
                assert not plan.is_new, "a fresh batch always holds its deposits and one tx"
                with node.lock:
                    self._seal(batch, now)
                node.wake.set()  # build the next block, in a new batch, at once
                return None
            plan = replace(plan, txs=plan.txs[:fit])
            raws = raws[:fit]
            result = self.executor.execute(plan.head, plan.deposits, raws, ctx)
        seconds = result.seconds
        post = result.post_state
        changes = list(result.changes)
        undo = [(k, plan.head.get(k)) for k, _ in changes if k not in batch.undo_keys]
        input_offset = batch.input_count
        step_offset = batch.step_count
        steps = []
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
                    "hash": keccak(s.state_root + cursor.to_bytes(4, "big") + s.job_hash),  # step_hash
                }
            )
        receipts = []
        commitments = []
        for receipt, tx in zip(result.receipts, plan.txs, strict=True):
            receipts.append(
                TxReceiptWrite(
                    tx.seq,
                    TxStatus.EXECUTED if receipt.success else TxStatus.FAILED,
                    receipt.tx_index,
                    int(receipt.reason),
                    receipt.detail,
                    receipt.created_id,
                    receipt.first_step,
                    receipt.last_step,
                )
            )
            if receipt.success and tx.tx_type == TxType.COMMIT_MODEL:
                commit = decode_tx(tx.raw).tx
                assert isinstance(commit, CommitModel)
                commitments.append((commit.task_id, tx.sender))

        after = replace(
            batch,
            deposit_count=batch.deposit_count + len(plan.deposits),
            tx_count=batch.tx_count + len(plan.txs),
            data_bytes=batch.data_bytes + sum(BATCH_TX_OVERHEAD + len(r) for r in raws),
            step_count=batch.step_count + len(steps),
            first_block=plan.number if batch.first_block is None else batch.first_block,
            undo_keys=batch.undo_keys | {k for k, _ in undo},
        )
        new_batch = None
        if plan.is_new:
            new_batch = BatchRow(
                id=batch.id,
                status=BatchStatus.OPEN,
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
            input_offset=input_offset,
            step_offset=step_offset,
            step_count=len(steps),
            created_at=now,
            exec_seconds=seconds,
        )
        node.store.write_block(
            BlockWrite(
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
            )
        )

        with node.lock:
            node.head = post
            node.height = plan.number
            node.open_batch = after
            if plan.is_new:
                node.next_batch_id = batch.id + 1
                node.batch_ts_floor = batch.timestamp
            node.mempool.drop_executed(plan.txs)
            if node.mempool.stale(batch.timestamp):
                node.mempool.rebuild(post, batch.timestamp)
            elif plan.deposits:
                node.mempool.credit(plan.deposits, batch.timestamp)
            if full or after.tx_count >= self.settings.batch_max_txs:
                self._seal(after, now)
            size = len(node.mempool)
        node.notify_block()

        m = node.metrics
        m.block_height.set(plan.number)
        m.mempool_size.set(size)
        if node.open_batch is not None:
            m.batch_height.labels(BatchStatus.OPEN).set(batch.id)
        ok = sum(r.status == TxStatus.EXECUTED for r in receipts)
        m.txs_executed.labels("success").inc(ok)
        m.txs_executed.labels("failure").inc(len(receipts) - ok)
        if kinds:
            m.observe_block(seconds, kinds)
        log.debug(
            "block %d: %d txs, %d deposits, %d steps in %.3fs",
            plan.number,
            len(raws),
            len(plan.deposits),
            len(steps),
            seconds,
        )
        return BuiltBlock(
            plan.number,
            batch.id,
            batch.timestamp,
            len(plan.txs),
            len(plan.deposits),
            len(steps),
            post.root,
            seconds,
        )

    def _seal(self, batch: OpenBatch, now: float) -> None:
        """Close `batch` (caller holds the sequencer's lock; the head is the batch's post-state)."""
        node = self.node
        row = node.store.seal_batch(batch.id, now)
        assert row.post_root == node.head.root
        node.open_batch = None
        node.remember(batch.id, node.head)
        node.metrics.batch_height.labels(BatchStatus.SEALED).set(batch.id)
        node.metrics.batch_height.labels(BatchStatus.OPEN).set(-1)
        log.info(
            "sealed batch %d: %d txs, %d deposits, %d steps",
            batch.id,
            row.tx_count,
            row.deposit_count,
            row.step_count,
        )
