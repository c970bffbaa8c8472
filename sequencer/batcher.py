"""The batch posting daemon: sealed batches to the Rollup contract, in order, exactly once.

One pass (`Batcher.run_once`):
1. reconcile with L1 (on start and after any failure): every batch L1 already holds is checked
   against ours (data hash and post root) and recorded as posted with its L1 transaction; a sealed
   batch is posted only when its id is L1's `batchCount()`. A batch can therefore be neither posted
   twice (the contract also refuses a wrong `prevRoot`) nor skipped;
2. post the sealed batches in id order, each with an explicit gas limit, waiting while both the
   latest L1 block and the clock are older than the batch's timestamp (`appendBatch` refuses a
   batch from the future);
3. answer every challenge of our batches: reveal the batch's step hashes (from the database) within
   the response window, or the bond is lost; the batch shows as challenged until it resolves;
4. finalize the batches whose challenge window has passed and mark them final in the database.

A failure (transport, revert, timeout) is logged and retried with exponential backoff, starting
with a fresh reconciliation (and a fresh look at the bond: a proven fraud slashes it).

A contradiction with L1 (L1 holds another batch at one of our ids, lost batches we posted because a
fraud proof or a reorg deleted them, or builds on another root than our next batch) is `L1Diverged`:
the daemon posts nothing and waits, since posting would only extend a chain L1 does not hold, until
the sequencer, which follows L1 (`sequencer.follower`), has brought the database in line (rolled back,
or adopted the other batch and rebuilt ours on top); then it goes on. It keeps answering challenges
and finalizing meanwhile, and it reveals and marks final only batches L1 still holds as recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from l1_contracts.bindings.rollup import ChallengePhase
from sequencer.core.config import Settings
from sequencer.core.errors import SequencerError
from sequencer.core.metrics import Metrics
from sequencer.db.models import BatchRow, BatchState, Origin
from sequencer.db.store import Store
from sequencer.l1 import BatchPoster, PostedBatch, batch_to_post
from service.loop import Loop

log = logging.getLogger("sequencer.batcher")

Sleep = Callable[[float], object]


class L1Diverged(SequencerError):
    """L1 contradicts the database: nothing is posted until the sequencer follows L1 again."""


@dataclass(frozen=True, slots=True)
class BatcherConfig:
    poll_s: float = 1.0  # pause between passes when idle
    backoff_s: float = 0.5  # first retry delay; doubles up to `backoff_max_s`
    backoff_max_s: float = 30.0
    finalize: bool = True  # also send `finalize` for batches past their window (anyone may)
    auto_bond: bool = True  # lock the proposer bond at start when it is not locked

    @classmethod
    def from_settings(cls, settings: Settings) -> BatcherConfig:
        return cls(poll_s=settings.batcher_poll_s, finalize=settings.finalize_batches)


def record_posted(store: Store, metrics: Metrics | None, posted: PostedBatch, at: float) -> None:
    """Store that a batch is on L1 (its transaction and gas) and count the gas."""
    store.record_posted(posted.batch_id, posted.l1_tx_hash, posted.l1_block, posted.gas_used, at)
    if metrics is not None:
        metrics.l1_gas_spent.inc(posted.gas_used)
        metrics.batch_height.labels(BatchState.POSTED).set(posted.batch_id)


@dataclass(frozen=True, slots=True)
class PassResult:
    posted: tuple[PostedBatch, ...]
    finalized_count: int
    revealed: tuple[int, ...] = ()


class Batcher:
    """Posts the sealed batches of `store` through `poster`; `start()` runs it on a thread."""

    def __init__(
        self,
        store: Store,
        poster: BatchPoster,
        config: BatcherConfig | None = None,
        *,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
        on_final: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.poster = poster
        self.config = config or BatcherConfig()
        self.metrics = metrics
        self.clock = clock
        self.on_final = on_final  # told the highest final batch id (the sequencer drops old snapshots)
        self._reconciled = False
        self._bonded = False
        self._loop = Loop("batcher", self.run)
        self._stop = self._loop.stopping
        self.failures = 0
        self.last_error: str | None = None
        self.waiting: str | None = None  # why nothing is posted now (L1 contradicts the database)

    # --- one pass -----------------------------------------------------------------------------------

    def reconcile(self) -> int:
        """Record every batch L1 holds that the database still calls sealed; check the ones it calls
        posted. Returns L1's batch count. `L1Diverged` on a contradiction."""
        count = self.poster.posted_count()
        last_posted = self.store.last_batch_with(BatchState.POSTED, BatchState.CHALLENGED, BatchState.FINAL)
        if last_posted is not None and last_posted.id >= count:
            raise L1Diverged(
                f"batch {last_posted.id} is recorded as posted, but L1 holds only {count} batches: L1 "
                "deleted it (a fraud proof, or a reorg of the L1 chain); waiting for the sequencer to "
                f"roll back to batch {count - 1} and rebuild"
            )
        for row in self.store.batches_with(BatchState.SEALED, -1, 1_000_000):
            if row.id >= count:
                break
            onchain = self.poster.onchain(row.id)
            if (onchain.data_hash, onchain.post_root) != (row.data_hash, row.post_root):
                raise L1Diverged(
                    f"L1 batch {row.id} has data hash 0x{onchain.data_hash.hex()} and post root "
                    f"0x{onchain.post_root.hex()}, ours 0x{(row.data_hash or b'').hex()} and "
                    f"0x{(row.post_root or b'').hex()}: another proposer posted there; waiting for the "
                    "sequencer to adopt or refuse it"
                )
            posted = onchain.posted or PostedBatch(row.id, b"\x00" * 32, 0, 0)
            log.info("batch %d is already on L1 (tx 0x%s): recorded", row.id, posted.l1_tx_hash.hex())
            self._record(posted)
        self._reconciled = True
        return count

    def post_ready(self) -> list[PostedBatch]:
        """Post every sealed batch, in id order; stops early (no error) at one from the future."""
        out: list[PostedBatch] = []
        while not self._stop.is_set():
            rows = self.store.batches_with(BatchState.SEALED, -1, 1)
            if not rows:
                break
            if not out and self.config.auto_bond:
                self.poster.ensure_bonded()  # a proven fraud slashed it: lock it again before posting
            batch = batch_to_post(rows[0])
            expected = self.poster.posted_count()
            if batch.id != expected:
                # Someone else moved L1, or our record is behind (a lost receipt): reconciling records
                # ours or says how L1 contradicts us (L1Diverged).
                self.reconcile()
                again = self.store.batches_with(BatchState.SEALED, -1, 1)
                if again and again[0].id == batch.id:
                    self._reconciled = False
                    raise SequencerError(f"batch {batch.id} is next here, but L1 expects batch {expected}")
                continue
            last_root = self.poster.last_root()
            if last_root != batch.prev_root:  # a revert would cost gas and say less
                raise L1Diverged(
                    f"batch {batch.id} builds on 0x{batch.prev_root.hex()}, L1's last root is "
                    f"0x{last_root.hex()}: L1 holds another batch {batch.id - 1}; waiting for the sequencer "
                    "to follow it"
                )
            # The block that includes appendBatch is at least as late as the latest one and, on a
            # chain that follows the wall clock, about now: a batch later than both waits.
            if batch.timestamp > max(self.poster.l1_time(), int(self.clock())):
                log.debug("batch %d has timestamp %d, ahead of L1: waiting", batch.id, batch.timestamp)
                break
            posted = self.poster.post(batch)
            log.info(
                "posted batch %d (%d txs, %d deposits, %d bytes) in L1 tx 0x%s: %d gas",
                batch.id,
                batch.tx_count,
                batch.deposit_count,
                len(batch.data),
                posted.l1_tx_hash.hex(),
                posted.gas_used,
            )
            self._record(posted)
            out.append(posted)
        return out

    def sync_final(self) -> int:
        """Finalize on L1 (when configured to), then mark the posted batches below L1's finalized count
        final, whoever finalized them."""
        count = self.poster.finalize() if self.config.finalize else self.poster.finalized_count()
        last = None
        for row in self.store.batches_with(BatchState.POSTED, -1, 1_000_000):
            if row.id >= count:
                break
            if not self._still_on_l1(row):  # final drops the undo log: never for a batch L1 replaced
                log.warning("L1 finalized another batch %d than ours: left to the sequencer", row.id)
                break
            self.store.set_batch_status(row.id, BatchState.FINAL)
            last = row.id
        if last is not None:
            log.info("batches up to %d are final on L1", last)
            if self.metrics is not None:
                self.metrics.batch_height.labels(BatchState.FINAL).set(last)
            if self.on_final is not None:
                self.on_final(last)
        return count

    def answer_challenges(self) -> list[int]:
        """Reveal the step hashes of every challenged batch of ours that awaits them, and keep the
        batches' challenged status in step with L1; returns the batch ids revealed."""
        revealed = []
        rows = self.store.batches_with(BatchState.POSTED, -1, 1_000_000)
        rows += self.store.batches_with(BatchState.CHALLENGED, -1, 1_000_000)
        count = self.poster.posted_count()
        for row in sorted(rows, key=lambda r: r.id):
            if not self._ours(row) or row.id >= count:
                continue  # another proposer's (adopted) batch, or one L1 deleted
            phase = self.poster.challenge_phase(row.id)
            if phase == ChallengePhase.AWAITING_REVEAL and not self._still_on_l1(row):
                log.warning("batch %d is challenged, but L1 holds another batch there: not ours", row.id)
                continue
            if phase == ChallengePhase.AWAITING_REVEAL:
                hashes = [bytes(step.hash) for step in self.store.steps(row.id)]
                posted = self.poster.reveal(row.id, hashes)
                log.warning(
                    "batch %d was challenged: revealed its %d step hashes in L1 tx 0x%s (%d gas)",
                    row.id,
                    len(hashes),
                    posted.l1_tx_hash.hex(),
                    posted.gas_used,
                )
                if self.metrics is not None:
                    self.metrics.l1_gas_spent.inc(posted.gas_used)
                revealed.append(row.id)
            challenged = phase != ChallengePhase.NONE
            if challenged != (row.status == BatchState.CHALLENGED):
                status = BatchState.CHALLENGED if challenged else BatchState.POSTED
                self.store.set_batch_status(row.id, status)
        return revealed

    def run_once(self) -> PassResult:
        """One pass: bond, reconcile if needed, post, answer challenges, finalize. While L1 contradicts
        the database nothing is posted (`waiting` says why), but challenges are answered and final
        batches marked."""
        posted: list[PostedBatch] = []
        try:
            if not self._reconciled:
                self.reconcile()
            if self.config.auto_bond and not self._bonded:
                self.poster.ensure_bonded()
                self._bonded = True
            posted = self.post_ready()
            if self.waiting is not None:
                log.info("L1 agrees with the database again: posting")
            self.waiting = None
        except L1Diverged as exc:
            self._reconciled = self._bonded = False
            if self.waiting != str(exc):
                log.warning("not posting: %s", exc)
            self.waiting = str(exc)
        revealed = self.answer_challenges()
        return PassResult(tuple(posted), self.sync_final(), tuple(revealed))

    def _ours(self, row: BatchRow) -> bool:
        """Whether we posted batch `row` (built here, or adopted from L1 with our proposer)."""
        return row.origin == Origin.LOCAL or row.proposer == self.poster.proposer

    def _still_on_l1(self, row: BatchRow) -> bool:
        """Whether L1 still holds the batch recorded in `row` at its index."""
        return self.poster.batch_roots(row.id) == (row.data_hash, row.post_root)

    def _record(self, posted: PostedBatch) -> None:
        record_posted(self.store, self.metrics, posted, self.clock())

    # --- the loop -----------------------------------------------------------------------------------

    def run(self, sleep: Sleep | None = None) -> None:
        """Pass after pass until `stop()`; retries failures with backoff."""
        wait = sleep or self._stop.wait
        backoff = self.config.backoff_s
        while not self._stop.is_set():
            try:
                self.run_once()
                self.failures, self.last_error = 0, None
                backoff = self.config.backoff_s
                wait(self.config.poll_s)
            except Exception as exc:  # transport, revert, database: retried after a reconciliation
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                self._reconciled = self._bonded = False
                log.warning(
                    "batch posting failed (%d in a row), retrying in %.1fs: %s", self.failures, backoff, exc
                )
                wait(backoff)
                backoff = min(backoff * 2, self.config.backoff_max_s)

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._loop.stop(timeout)

    @property
    def alive(self) -> bool:
        return self._loop.alive
