"""The sequencer: committed state, mempool, admission, and what the L1 side calls.

One `Sequencer` owns the state in memory (`head`: after the last committed block) and the
database. `lock` serializes the changes of the mempool and of the head: admission's and the block
builder's short critical sections. Neither executes under it: the builder runs blocks outside it
(see `sequencer.builder`), and an expensive admission dry-runs its txs outside it, on the pending
state it read, then takes the lock only to check that this state is still the pending one and
append. Reads never take it: every change publishes an immutable `View` (head, height, pending
state) that the API reads without waiting. Restart never replays: the state comes back from the
`leaves` table and is checked against the last block's post-state root.

Pending work is bounded: admission refuses (429 with `Retry-After`) txs whose steps would take
their sender's pending work past `max_pending_steps_per_sender`, or everyone's past
`max_pending_steps`, checked before the dry-run with the most steps each tx may take and after it
with the steps it took. Waiting for a block (`wait_block`, the API's long polls) is a coroutine
woken by the builder's thread; at most `max_long_polls` wait at once.

While its chain is not in line with L1 (`sequencer.follower` reading L1 at start, rolling back
batches L1 deleted, adopting another proposer's batch, or waiting for a fraudulent one to go), the
sequencer is `catching_up`: it refuses new txs with a 503 `catching_up` and `Retry-After`, since it
could not post them, and `/readyz` says why.

Its helpers have modules of their own: `sequencer.committer` (the group committer that stores
accepted txs before they are acknowledged), `sequencer.history` (the states after past batches, for
proofs) and `sequencer.waiters` (the coroutines of long polls waiting for a block).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from protocol.codec import decode_tx
from protocol.errors import ProtocolError
from protocol.hashing import keccak
from protocol.signing import Domain, recover_sender, to_checksum_address
from protocol.state import State
from protocol.transition import BatchResult
from protocol.txs import TxType
from sequencer.batcher import record_posted
from sequencer.committer import GroupCommitter, Ticket
from sequencer.core.config import BATCH_HEADER_BYTES, Settings
from sequencer.core.errors import ApiError, SequencerError, StartupError, api_error
from sequencer.core.metrics import Metrics
from sequencer.db.models import BatchRow, BatchState, TxRow, TxStatus
from sequencer.db.session import Database
from sequencer.db.store import Rollback, Store
from sequencer.history import BatchStates
from sequencer.l1 import BatchToPost, DepositSource, L1Deposit, PostedBatch, batch_to_post
from sequencer.mempool import (
    JOB_TYPES,
    TIMED,
    Mempool,
    PendingTx,
    Submission,
    TooMuchWork,
    receipt_steps,
    states_after,
    tx_nonce,
)
from sequencer.waiters import BlockWaiters

log = logging.getLogger("sequencer")

Clock = Callable[[], float]
INLINE_TXS = 4  # submissions of at most this many cheap txs are dry-run on the event loop
CHEAP_TYPES = frozenset(
    bytes([t])
    for t in (TxType.TRANSFER, TxType.WITHDRAW, TxType.CREATE_TASK, TxType.COMMIT_MODEL, TxType.FINALIZE_TASK)
)
OPTIMISTIC_TRIES = 2  # dry-runs outside the lock before one under it (the pending state kept moving)
DEFAULT_STEP_SECONDS = 2e-3  # a training step's time, until the builder has measured one


@dataclass(frozen=True, slots=True)
class View:
    """What the API reads, published whole after every change: the state after the last block, its
    number, and the pending state (after every accepted tx)."""

    head: State
    height: int
    pending: State
    mempool_size: int


@dataclass(frozen=True, slots=True)
class CatchingUp:
    """Why the sequencer takes no new txs for now: its chain is being brought in line with L1."""

    reason: str
    since: float
    retry_after_s: int

    def as_dict(self) -> dict[str, object]:
        return {"reason": self.reason, "since": self.since, "retry_after_s": self.retry_after_s}

    def error(self) -> ApiError:
        """The 503 answer to a submission meanwhile."""
        return api_error(
            "catching_up",
            f"the sequencer is catching up with L1 and accepts no txs for now: {self.reason}",
            headers={"Retry-After": str(self.retry_after_s)},
            catching_up=self.as_dict(),
        )


@dataclass(slots=True)
class OpenBatch:
    """The batch blocks are being added to: one timestamp, deposits only in its first block."""

    id: int
    timestamp: int
    opened_at: float
    prev_root: bytes
    deposit_start: int
    deposit_count: int = 0
    tx_count: int = 0
    data_bytes: int = BATCH_HEADER_BYTES
    step_count: int = 0
    first_block: int | None = None
    undo_keys: set[bytes] = field(default_factory=set)
    replay_ts: int | None = None  # a batch re-executing txs a rollback undid: only those of this time

    @property
    def input_count(self) -> int:
        return self.deposit_count + self.tx_count

    @classmethod
    def from_row(cls, row: BatchRow, undo_keys: set[bytes]) -> OpenBatch:
        return cls(
            row.id,
            row.timestamp,
            row.opened_at,
            row.prev_root,
            row.deposit_start,
            row.deposit_count,
            row.tx_count,
            row.data_bytes,
            row.step_count,
            row.first_block,
            undo_keys,
        )


class Sequencer:
    """State, mempool and storage of one sequencer; `start()` before use."""

    def __init__(
        self,
        settings: Settings,
        *,
        db: Database | None = None,
        clock: Clock = time.time,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.domain = settings.domain
        self.fees = settings.fees
        self.db = db or Database.connect(
            settings.database_url, sqlite_synchronous=settings.sqlite_synchronous
        )
        self.store = Store(self.db)
        self.clock = clock
        self.metrics = metrics or Metrics()
        self.lock = threading.RLock()
        self._admitting = threading.Lock()  # expensive admissions, one at a time, outside `lock`
        self.wake = threading.Event()  # set when a full block is pending: the builder starts at once
        self._blocks = threading.Condition()  # notified after every block
        self.block_waiters = BlockWaiters(settings.max_long_polls)
        self.step_seconds = DEFAULT_STEP_SECONDS  # measured by the builder: Retry-After estimates
        self.head = State()
        self.height = 0
        self.open_batch: OpenBatch | None = None
        self.next_batch_id = 0
        self.batch_ts_floor = 0  # batch timestamps never decrease
        self.next_seq = 1
        self.mempool = Mempool(self.domain, self.fees, self.head, 0)
        self.history = BatchStates(self.store)  # post-states of past batches, for proofs
        self.durable_seq = 0  # every accepted tx up to this seq is committed; blocks take no other
        self.committer = GroupCommitter(self)
        self.started = False
        self._catching_up: CatchingUp | None = None
        self.view = View(self.head, 0, self.head, 0)

    def publish(self) -> None:
        """Publish the current head, height and pending state as one `View` (caller holds `lock`,
        after changing any of them)."""
        self.view = View(self.head, self.height, self.mempool.state, len(self.mempool))

    # --- start --------------------------------------------------------------------------------------

    def start(self) -> None:
        """Migrate the database, load the state and the mempool; `StartupError` when inconsistent."""
        self.store.migrate()
        self.store.check_domain(self.domain)
        deployment = self.settings.deployment
        if deployment is not None and deployment.genesis_root != State().root:
            raise StartupError(
                f"the Rollup was deployed with genesis root 0x{deployment.genesis_root.hex()}; this "
                "sequencer starts from the empty state (root 0x00…): redeploy with the default genesis"
            )
        head = State.from_leaves(self.store.iter_leaves())
        last = self.store.last_block()
        expected = last.post_root if last is not None else State().root
        if head.root != expected:
            where = f"block {last.number}'s post-state root" if last is not None else "the genesis root"
            raise StartupError(
                f"the stored state has root 0x{head.root.hex()}, not {where} 0x{expected.hex()}: the "
                "database is corrupt or was written by another program; restore it from a backup"
            )
        batch = self.store.last_batch()
        with self.lock:
            self.head = head
            self.height = 0 if last is None else last.number
            if batch is not None:
                self.next_batch_id = batch.id + 1
                self.batch_ts_floor = batch.timestamp
                if batch.status == BatchState.OPEN:
                    self.open_batch = OpenBatch.from_row(batch, self.store.undo_keys(batch.id))
                else:
                    self.history.remember(batch.id, head)
            self.next_seq = self.store.max_seq() + 1
            self.durable_seq = self.next_seq - 1
            self.mempool = Mempool(self.domain, self.fees, head, self.admission_timestamp())
            pending = [_pending(r) for r in self.store.pending_txs()]
            if pending:
                self.mempool.insert(pending)
                self.mempool.rebuild(head, self.admission_timestamp())
            self.publish()
            self.started = True
        self.committer.start()
        self._refresh_metrics()
        log.info(
            "sequencer started: block %d, root 0x%s, %d pending txs, chain %d, Rollup 0x%s",
            self.height,
            head.root.hex(),
            len(pending),
            self.domain.chain_id,
            self.domain.verifying_contract.hex(),
        )

    def close(self) -> None:
        self.committer.stop()
        self.db.dispose()

    def _refresh_metrics(self) -> None:
        m = self.metrics
        m.block_height.set(self.height)
        m.mempool_size.set(len(self.mempool))
        m.deposits_seen.set(self.store.next_deposit_index())
        if self.open_batch is not None:
            m.batch_height.labels("open").set(self.open_batch.id)
        for status in (BatchState.SEALED, BatchState.POSTED, BatchState.FINAL):
            row = self.store.last_batch_with(status)
            if row is not None:
                m.batch_height.labels(status).set(row.id)

    # --- admission ----------------------------------------------------------------------------------

    def admission_timestamp(self) -> int:
        """The timestamp submissions are checked at: the open batch's while it takes blocks, else
        the next batch's (now)."""
        now = self.clock()
        batch = self.open_batch
        if (
            batch is not None
            and batch.replay_ts is None
            and now - batch.opened_at < self.settings.batch_max_age_s
        ):
            return batch.timestamp
        return max(int(now), self.batch_ts_floor)  # (a new tx never joins a batch that re-executes)

    def submit(self, subs: Sequence[Submission], *, listed: bool = False) -> list[PendingTx]:
        """Admit txs, all or nothing: dry-run them after the pending ones, store them durably, then
        answer. `ApiError` (nothing stored) when any would be refused; with `listed`, the error names
        the refused txs by index (`items`) even for a list of one."""
        pending, ticket = self._counted(self.admit, subs, listed)
        ticket.future.result()  # raises the storage error
        return self._accepted(pending)

    async def submit_async(self, subs: Sequence[Submission], *, listed: bool = False) -> list[PendingTx]:
        """`submit` for the event loop: a few txs are dry-run right here when the lock is free (a
        thread hop costs more than the dry-run); larger lists, or a busy lock, go to a worker thread.
        Waiting for the commit never blocks the loop."""
        if len(subs) <= INLINE_TXS and all(_cheap(s) for s in subs) and self.lock.acquire(blocking=False):
            try:
                pending, ticket = self._counted(self._admit_locked, subs, listed)
            finally:
                self.lock.release()
        else:
            pending, ticket = await asyncio.to_thread(self._counted, self.admit, subs, listed)
        await asyncio.wrap_future(ticket.future)
        return self._accepted(pending)

    def _counted(
        self, admit: Callable[[Sequence[Submission], bool], tuple[list[PendingTx], Ticket]], *args: Any
    ) -> tuple[list[PendingTx], Ticket]:
        try:
            return admit(*args)
        except ApiError as exc:
            self.metrics.count_rejection(exc)
            raise

    def _accepted(self, pending: list[PendingTx]) -> list[PendingTx]:
        size = len(self.mempool)
        self.metrics.txs_accepted.inc(len(pending))
        self.metrics.mempool_size.set(size)
        if size >= self.settings.block_max_txs:
            self.wake.set()
        return pending

    def admit(self, subs: Sequence[Submission], listed: bool) -> tuple[list[PendingTx], Ticket]:
        """Dry-run and queue for commit; the ticket resolves once stored. Cheap txs are dry-run
        under the lock; expensive ones outside it, on the pending state read under it (module
        docstring), so that the builder and other admissions go on meanwhile."""
        if all(_cheap(s) for s in subs):  # (a list of cheap txs must not wait behind a heavy one)
            with self.lock:
                return self._admit_locked(subs, listed)
        with self._admitting:
            for _ in range(OPTIMISTIC_TRIES):
                with self.lock:
                    hashes, budget = self._precheck(subs, listed)
                    base, ts = self.mempool.state, self.admission_timestamp()
                result, errors = self._dry_run(subs, ts, budget, base)
                with self.lock:
                    if self.mempool.state is base and self._still_valid_at(ts, subs):
                        return self._accept_locked(subs, listed, hashes, ts, result, errors)
            with self.lock:  # the pending state kept moving: dry-run holding the lock
                return self._admit_locked(subs, listed)

    def _still_valid_at(self, ts: int, subs: Sequence[Submission]) -> bool:
        """Whether a dry-run at `ts` still holds at the admission timestamp now: the same time, or
        no time-dependent tx pending or among `subs` (a batch's time changes only those)."""
        if self.admission_timestamp() == ts:
            return True
        return not self.mempool.timed and not _any_timed(subs)

    def _admit_locked(self, subs: Sequence[Submission], listed: bool) -> tuple[list[PendingTx], Ticket]:
        hashes, budget = self._precheck(subs, listed)
        ts = self.admission_timestamp()
        result, errors = self._dry_run(subs, ts, budget)
        return self._accept_locked(subs, listed, hashes, ts, result, errors)

    def _dry_run(
        self, subs: Sequence[Submission], ts: int, budget: Budget, base: State | None = None
    ) -> tuple[BatchResult, list[ApiError | None]]:
        try:
            result, errors = self.mempool.dry_run(subs, ts, on=base, max_steps=budget.steps)
            later = self.latest_block_timestamp(ts)
            if later > ts and _any_timed(subs):
                _, at_later = self.mempool.dry_run(subs, later, on=base, max_steps=budget.steps)
                errors = [_too_close(e, e2, later - ts) for e, e2 in zip(errors, at_later, strict=True)]
            return result, errors
        except TooMuchWork:
            raise budget.refusal(self) from None

    def latest_block_timestamp(self, ts: int) -> int:
        """The latest timestamp a tx admitted at `ts` now is expected to execute at: the open
        batch's may close before the tx's block, and the next batch carries the time of the
        builder's next tick. A time-dependent tx is admitted only if it holds at both (between
        them too: a phase is an interval of time), so that it does not fail in its block merely
        because a batch closed (docs/api.md, Limits)."""
        return max(int(self.clock() + self.settings.block_interval_s), ts)

    def _precheck(self, subs: Sequence[Submission], listed: bool) -> tuple[list[bytes], Budget]:
        """What refuses a submission before its dry-run (caller holds the lock): catching up, a tx
        repeated or already pending, a sender (of a job tx) or everyone already at their bound of
        pending work. The txs' hashes and the steps their dry-run may take."""
        catching_up = self._catching_up
        if catching_up is not None:
            raise catching_up.error()
        hashes = [keccak(s.raw) for s in subs]
        first_seen: dict[bytes, int] = {}
        for i, h in enumerate(hashes):
            if h in first_seen:
                message = f"tx {i} repeats tx {first_seen[h]} of this list"
                raise _in_list(listed, i, api_error("already_known", message, hash=_hx(h)))
            first_seen[h] = i
        waiting = [i for i, h in enumerate(hashes) if h in self.mempool.by_hash]
        if waiting:
            raise _in_list(listed, waiting[0], _known(hashes[waiting[0]]))
        s, mempool = self.settings, self.mempool
        global_room = s.max_pending_steps - mempool.pending_steps
        budget = Budget(global_room, None) if global_room < s.max_pending_steps_per_sender else None
        for sender in _job_senders(self.domain, subs):
            room = s.max_pending_steps_per_sender - mempool.sender_steps.get(sender, 0)
            if budget is None or room < budget.steps:
                budget = Budget(room, sender)
        if budget is None:  # a submission's own work is bounded too: a sender's bound at most
            budget = Budget(s.max_pending_steps_per_sender, None, whole=True)
        if budget.steps < len(subs):  # a tx takes a step at least
            raise budget.refusal(self)
        return hashes, budget

    def _check_work(self, steps: Sequence[int], senders: Sequence[bytes]) -> None:
        """429 when txs of `steps` steps, sent by `senders`, take pending work past a bound."""
        s, mempool = self.settings, self.mempool
        by_sender: dict[bytes, int] = {}
        for sender, n in zip(senders, steps, strict=True):
            by_sender[sender] = by_sender.get(sender, 0) + n
        for sender, n in by_sender.items():
            if mempool.sender_steps.get(sender, 0) + n > s.max_pending_steps_per_sender:
                raise Budget(
                    s.max_pending_steps_per_sender - mempool.sender_steps.get(sender, 0), sender
                ).refusal(self)
        if mempool.pending_steps + sum(steps) > s.max_pending_steps:
            raise Budget(s.max_pending_steps - mempool.pending_steps, None).refusal(self)

    def retry_after(self, steps: int) -> int:
        """Seconds until the builder has executed `steps` steps, at its measured pace."""
        seconds = max(steps * self.step_seconds, self.settings.block_interval_s)
        return max(1, min(3_600, math.ceil(seconds)))

    def _accept_locked(
        self,
        subs: Sequence[Submission],
        listed: bool,
        hashes: list[bytes],
        ts: int,
        result: BatchResult,
        errors: list[ApiError | None],
    ) -> tuple[list[PendingTx], Ticket]:
        """Refuse, or append to the mempool and queue for commit, a dry-run on the pending state."""
        failures = [(i, e) for i, e in enumerate(errors) if e is not None]
        replays = [hashes[i] for i, e in failures if e.code == "nonce_too_low"]
        if replays:  # an executed tx sent again is `already_known`, not a nonce error
            known = self.store.known_hashes(replays)
            failures = [(i, _known(hashes[i]) if hashes[i] in known else e) for i, e in failures]
        if failures:
            if not listed:
                raise failures[0][1]
            i, first = failures[0]
            items = [{"index": j, "code": e.code, "message": e.message} for j, e in failures]
            raise ApiError(
                first.status,
                first.code,
                f"tx {i} of the list: {first.message} ({len(failures)} of {len(subs)} txs refused; "
                "a list is all or nothing: none was accepted)",
                items=items,
            )
        steps = receipt_steps(result.receipts)
        self._check_work(steps, [r.sender for r in result.receipts if r.sender is not None])
        now = self.clock()
        pending = []
        for i, (sub, receipt) in enumerate(zip(subs, result.receipts, strict=True)):
            assert receipt.sender is not None
            seq = self.next_seq + i
            pending.append(
                PendingTx(seq, hashes[i], sub.raw, sub.raw[0], receipt.sender, tx_nonce(sub.raw), now)
            )
        rows = [
            {
                "seq": p.seq,
                "hash": p.hash,
                "raw": p.raw,
                "tx_type": p.tx_type,
                "sender": p.sender,
                "nonce": p.nonce,
                "status": TxStatus.PENDING,
                "received_at": p.received_at,
            }
            for p in pending
        ]
        self.next_seq += len(pending)
        self.mempool.add(pending, result.post_state, ts, steps, states_after(result))
        self.publish()
        return pending, self.committer.enqueue(rows)

    def wait_durable(self, timeout: float = 10.0) -> None:
        """Wait until every accepted tx is stored (the group committer took it) or refused; call it
        holding the lock, so that no new tx is accepted meanwhile."""
        deadline = time.monotonic() + timeout
        while self.durable_seq < self.next_seq - 1:
            if time.monotonic() > deadline:
                raise SequencerError(f"accepted txs were not stored within {timeout:.0f}s")
            time.sleep(0.002)

    # --- blocks -------------------------------------------------------------------------------------

    def notify_block(self) -> None:
        """A block landed (or the head moved): wake every waiter, threads and coroutines."""
        with self._blocks:
            self._blocks.notify_all()
        self.block_waiters.notify()

    def wait_for_block(self, after: int, timeout: float) -> bool:
        """Wait until a block after `after` exists (or `timeout` seconds); whether one does. Blocks
        the calling thread: the API awaits `wait_block` instead."""
        with self._blocks:
            return self._blocks.wait_for(lambda: self.height > after, timeout)

    async def wait_block(self, after: int, timeout: float) -> bool:
        """`wait_for_block` as a coroutine that holds no thread; False at once when
        `max_long_polls` already wait (the caller answers with what it has)."""
        return await self.block_waiters.wait(lambda: self.height > after, timeout)

    # --- states of past batches ---------------------------------------------------------------------

    def state_at_batch(self, batch_id: int) -> State:
        """The state after batch `batch_id` (sealed or later), for proofs against its root.

        Recent ones are kept in memory; others are rebuilt from the current state and the undo
        entries of every later batch, which exist back to the last final batch (`BatchStates`)."""
        return self.history.state_at(batch_id, lambda: self.view.head)

    def remember(self, batch_id: int, state: State) -> None:
        """Keep `state` as batch `batch_id`'s post-state for proofs."""
        self.history.remember(batch_id, state)

    # --- following L1 ------------------------------------------------------------------------------

    @property
    def catching_up(self) -> CatchingUp | None:
        """Why new txs are refused for now; None while the chain is in line with L1."""
        return self._catching_up

    def set_catching_up(self, reason: str | None, retry_after_s: int = 2) -> None:
        """Refuse new txs for `reason` (it keeps its `since` while it stays set), or take them again."""
        current = self._catching_up
        self.metrics.catching_up.set(0 if reason is None else 1)
        if reason is None:
            if current is not None:
                log.info("caught up with L1 (after %.1fs): taking txs again", self.clock() - current.since)
            self._catching_up = None
            return
        since = self.clock() if current is None else current.since
        if current is None or current.reason != reason:
            log.warning("catching up with L1, refusing new txs: %s", reason)
        self._catching_up = CatchingUp(reason, since, retry_after_s)

    def reset_head(self, state: State, undone: Rollback) -> None:
        """After `store.rollback_to`: the state is `state` (the post-state of the batch before
        `undone.batch_id`, or genesis), no batch is open, and the requeued txs go back to the mempool,
        ahead of the ones pending (the builder runs each group at the timestamp of the batch it ran
        in, which L1 accepts: it is not before the batch kept last, nor after now). The caller holds
        the lock and keeps the block builder out."""
        kept = self.store.batch(undone.batch_id - 1) if undone.batch_id > 0 else None
        self.head = state
        self.height = undone.height
        self.open_batch = None
        self.next_batch_id = undone.batch_id
        self.batch_ts_floor = 0 if kept is None else kept.timestamp
        self.history.forget_from(undone.batch_id)
        self.requeue([_pending(r) for r in undone.requeued])

    def requeue(self, txs: Sequence[PendingTx]) -> None:
        """Put acknowledged txs back in the mempool, in arrival (seq) order among the pending ones, and
        recompute the pending state (caller holds the lock)."""
        self.mempool.insert(txs)
        self.mempool.rebuild(self.head, self.admission_timestamp())
        self.publish()
        self.metrics.mempool_size.set(len(self.mempool))

    # --- the L1 side --------------------------------------------------------------------------------

    def ingest_deposits(self, items: Sequence[L1Deposit]) -> int:
        """Store deposits the watcher saw (continuing the queue); how many were new."""
        added = self.store.add_deposits(items, self.clock())
        if added:
            self.metrics.deposits_seen.set(self.store.next_deposit_index())
        return added

    def poll_deposits(self, source: DepositSource) -> int:
        """Ask `source` for the deposits after the stored ones and store them."""
        return self.ingest_deposits(source.deposits_from(self.store.next_deposit_index()))

    def batches_to_post(self, after: int = -1, limit: int = 16) -> list[BatchToPost]:
        """Sealed, not yet posted batches with id above `after`, in id order."""
        return [batch_to_post(row) for row in self.store.batches_with(BatchState.SEALED, after, limit)]

    def record_posted(self, posted: PostedBatch) -> None:
        """The poster's report: the batch is on L1 in `posted.l1_tx_hash`, which used `gas_used`."""
        record_posted(self.store, self.metrics, posted, self.clock())

    def set_batch_status(self, batch_id: int, status: str) -> None:
        """L1's verdict on a posted batch: challenged, final or rolled back."""
        self.store.set_batch_status(batch_id, status)
        if status == BatchState.FINAL:
            self.metrics.batch_height.labels(BatchState.FINAL).set(batch_id)
            self.forget_before(batch_id)

    def forget_before(self, batch_id: int) -> None:
        """Batch `batch_id` is final: drop the snapshots of older batches (no proofs against them)."""
        self.history.forget_before(batch_id)


def _pending(row: TxRow) -> PendingTx:
    """A stored pending tx as the mempool holds it (a local tx always has its sender)."""
    assert row.sender is not None, f"pending tx {row.seq} has no sender"
    return PendingTx(
        row.seq, row.hash, row.raw, row.tx_type, row.sender, row.nonce, row.received_at, row.replay_ts
    )


@dataclass(frozen=True, slots=True)
class Budget:
    """The steps a submission's dry-run may take, and whose bound sets it: `sender`'s, everyone's
    (None), or (`whole`) the bound on one submission's own work."""

    steps: int
    sender: bytes | None
    whole: bool = False

    def refusal(self, node: Sequencer) -> ApiError:
        """The 429 for txs that would take more than this."""
        s, mempool = node.settings, node.mempool
        if self.whole:
            limit, held = s.max_pending_steps_per_sender, 0
            code, what = "sender_busy", f"one submission may take at most {limit} steps of work"
        elif self.sender is not None:
            limit, held = s.max_pending_steps_per_sender, mempool.sender_steps.get(self.sender, 0)
            code = "sender_busy"
            what = (
                f"{to_checksum_address(self.sender)} has {held} steps of work pending, and "
                f"max_pending_steps_per_sender is {limit}"
            )
        else:
            limit, held = s.max_pending_steps, mempool.pending_steps
            code, what = "mempool_full", f"{held} steps of work are pending, and max_pending_steps is {limit}"
        retry = node.retry_after(max(held, 1))
        return api_error(
            code,
            f"these txs would take more work than is left: {what}; retry in {retry} s, once pending txs "
            "are executed, or send fewer or shorter jobs at once",
            headers={"Retry-After": str(retry)},
            pending_steps=held,
            limit=limit,
        )


def _job_senders(domain: Domain, subs: Sequence[Submission]) -> set[bytes]:
    """The recovered senders of the job txs (training, scoring) in `subs`; a tx that does not
    recover is left to the dry-run, which refuses it."""
    out = set()
    for sub in subs:
        if sub.raw[:1] and sub.raw[0] in JOB_TYPES:
            try:
                out.add(recover_sender(domain, decode_tx(sub.raw)))
            except ProtocolError:
                continue
    return out


def _any_timed(subs: Sequence[Submission]) -> bool:
    """Whether a submission's outcome depends on the batch timestamp (`mempool.TIMED`)."""
    return any(s.raw[:1] and s.raw[0] in TIMED for s in subs)


def _too_close(now: ApiError | None, later: ApiError | None, seconds: int) -> ApiError | None:
    """The refusal of a tx that holds at its admission timestamp but not `seconds` later."""
    if now is not None or later is None:
        return now
    return api_error(
        later.code,
        f"{later.message}, {seconds} s from now, when its block may run (the open batch may close "
        "first): too close to a deadline to be sure of its block; send it earlier",
        **later.extra,
    )


def _cheap(sub: Submission) -> bool:
    """Whether a tx's dry-run is short enough for the event loop: no job (scoring, training), no
    large payload to hash."""
    return len(sub.raw) <= 1_024 and sub.raw[:1] in CHEAP_TYPES


def _hx(data: bytes) -> str:
    return "0x" + data.hex()


def _known(tx_hash: bytes) -> ApiError:
    message = "this tx was already accepted: GET /v1/txs/{hash}"
    return api_error("already_known", message, hash=_hx(tx_hash))


def _in_list(listed: bool, index: int, error: ApiError) -> ApiError:
    if not listed:
        return error
    item = {"index": index, "code": error.code, "message": error.message}
    return ApiError(
        error.status,
        error.code,
        f"tx {index} of the list: {error.message} (a list is all or nothing: none was accepted)",
        **error.extra,
        items=[item],
    )
