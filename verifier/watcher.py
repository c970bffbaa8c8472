"""Follow L1 and judge every batch from L1 data alone.

The watcher applies what `l1_contracts.reader.L1Reader.poll` returns to the shared derivation
(`protocol.derive.Derivation`): an appended batch is derived on the honest state before it and its
verdict recorded; a deleted one is rewound (the honest state goes back to the batch before); a reorg
(`L1Update.reset`) rebuilds the derivation from the deployment block; a finalized batch is settled,
which frees what was kept of it (no fraud proof can concern it again). Nothing comes from the
sequencer: the batch data is the `appendBatch` calldata and the deposits are the Bridge's events.

After a restart the reader starts again from the deployment block and every batch is derived again
(the honest state lives in memory only); verdicts already recorded are found in the database and not
reported twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from l1_contracts.reader import Appended, L1Reader
from protocol.derive import Derivation, DerivationError, Derived, Verdict
from protocol.fees import FeeSchedule
from protocol.signing import Domain
from protocol.state import State
from verifier.core.metrics import Metrics
from verifier.db.store import Store

log = logging.getLogger("verifier.watcher")

CATCH_UP_BLOCKS = 20_000  # blocks a poll scans at most, so that the status moves during a long catch-up


@dataclass(frozen=True, slots=True)
class WatchResult:
    """What one poll did."""

    safe_block: int  # the last L1 block scanned
    judged: tuple[Derived, ...] = ()
    deleted: tuple[int, ...] = ()
    finalized_count: int = 0
    batch_count: int = 0
    reset: bool = False
    caught_up: bool = False  # scanned up to the confirmed head


def hx(data: bytes | None) -> str:
    """0x-hex of bytes, for log lines."""
    return "none" if data is None else "0x" + data.hex()


class Watcher:
    """Judges one deployment's batches as L1 confirms them. Not thread-safe: one loop polls it."""

    def __init__(
        self,
        reader: L1Reader,
        store: Store,
        domain: Domain,
        fees: FeeSchedule,
        *,
        metrics: Metrics | None = None,
        max_blocks: int = CATCH_UP_BLOCKS,
    ) -> None:
        self.reader = reader
        self.store = store
        self.domain = domain
        self.fees = fees
        self.metrics = metrics or Metrics()
        self.max_blocks = max_blocks
        self.derivation = Derivation(domain, fees, State())
        self.finalized_count = 0
        self.batch_count = 0
        self.caught_up = False

    @property
    def latest(self) -> Derived | None:
        """The last batch judged that L1 still holds."""
        d = self.derivation
        return d.get(d.next_index - 1)

    def first_fraud(self) -> Derived | None:
        """The earliest batch L1 holds (not final) that a challenge would win against."""
        return self.derivation.first_fraud()

    def poll(self) -> WatchResult:
        """Scan the confirmed blocks not scanned yet and apply what they hold."""
        try:
            return self._poll()
        except DerivationError:
            # the reader's view was incomplete (it should never be): read the deployment again
            log.exception("the derivation refused L1's batches; reading the deployment again")
            self._start_over()
            raise

    def _poll(self) -> WatchResult:
        update = self.reader.poll(max_blocks=self.max_blocks)
        if update.reset:
            log.warning("L1 reorganised: deriving every batch again from block %d", self.reader.from_block)
            self.derivation = Derivation(self.domain, self.fees, State())
            self.finalized_count = 0
            self.store.forget_live()
        judged: list[Derived] = []
        deleted: list[int] = []
        for change in update.changes:
            if isinstance(change, Appended):
                derived = self.derivation.push(change.batch, self.reader.deposits)
                judged.append(derived)
                if self.store.record_verdict(derived):
                    self._report(derived)
            else:
                self.derivation.rewind(change.index)
                self.store.mark_deleted(change.index)
                deleted.append(change.index)
                log.info("batch %d deleted on L1 (block %d)", change.index, change.l1_block)
        if update.finalized_count > self.finalized_count:
            self.derivation.settle(update.finalized_count - 1)
            self.reader.forget_data(update.finalized_count)  # derived and final: memory stays bounded
            self.store.mark_finalized(update.finalized_count)
            self.finalized_count = update.finalized_count
        self.batch_count = update.batch_count
        self.store.set_scanned_block(update.safe_block)
        head = int(self.reader.w3.eth.block_number)
        self.caught_up = update.safe_block >= head - self.reader.confirmations
        m = self.metrics
        m.l1_block.set(update.safe_block)
        m.finalized_batches.set(self.finalized_count)
        latest = self.latest
        m.latest_checked_batch.set(-1 if latest is None else latest.batch.index)
        return WatchResult(
            safe_block=update.safe_block,
            judged=tuple(judged),
            deleted=tuple(deleted),
            finalized_count=self.finalized_count,
            batch_count=update.batch_count,
            reset=update.reset,
            caught_up=self.caught_up,
        )

    def _report(self, derived: Derived) -> None:
        """One log line and the counters for a batch judged for the first time."""
        b = derived.batch
        self.metrics.batches_judged.labels(derived.verdict.value).inc()
        if derived.verdict.is_fraud:
            self.metrics.disagreements.inc()
            log.warning(
                "batch %d judged wrong (%s): %s; posted post root %s, honest %s; proposer %s, L1 tx %s",
                b.index,
                derived.verdict.value,
                derived.reason,
                hx(b.post_root),
                hx(derived.honest_post_root),
                b.proposer,
                hx(b.l1_tx_hash),
            )
        elif derived.verdict is Verdict.OFF_CHAIN:
            log.info(
                "batch %d judged off_chain: %s (it goes with the wrong batch before it)",
                b.index,
                derived.reason,
            )
        else:
            log.info("batch %d judged valid: post root %s", b.index, hx(b.post_root))

    def _start_over(self) -> None:
        r = self.reader
        self.reader = L1Reader(r.rollup, r.bridge, from_block=r.from_block, confirmations=r.confirmations)
        self.derivation = Derivation(self.domain, self.fees, State())
        self.finalized_count = 0
        self.store.forget_live()
