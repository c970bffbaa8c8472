"""Following L1: the sequencer's chain kept in line with the batches L1 holds (docs/spec.md section 10).

L1 is the source of truth, for the sequencer too. `Follower.follow_once` polls an `L1Batches` (the
shared reader, `l1_contracts.reader.L1Reader`: live batches and deposits from events and calldata,
`confirmations` deep) and walks L1's batches from the first one not yet known to agree with ours:

- L1's batch equals ours at its index (data hash, roots and deposits): in line. (A batch we sealed
  whose receipt was lost is recorded by the batcher's reconciliation.)
- L1 no longer holds batches we hold as posted, although their append is at or below the block read
  (so not merely younger than the confirmations): a fraud proof or a reorg deleted them. Roll back to
  L1's last batch (`BlockBuilder.rollback_to`): the state goes back to L1's last root, and the
  acknowledged txs of the deleted batches run again, in their order, and are posted again.
- L1 holds another batch at an index: another proposer's at our next index, or one in place of ours.
  Derive it with the shared derivation (`protocol.derive.Derivation`, on our state before it). VALID:
  adopt it (`BlockBuilder.adopt_foreign`): whatever of ours was at that index or later is undone and
  its txs run again on top of it. Fraud (WRONG_ROOTS, UNDECODABLE) or built on fraud (OFF_CHAIN):
  refuse it and wait; a verifier proves it wrong and L1 deletes it, and then ours go on.

Meanwhile the sequencer is catching up (`Sequencer.set_catching_up`): it refuses new txs with a 503
and `Retry-After`, since it could not post them, and `/readyz` gives the reason; reads go on. That is
from the start to the first complete read of L1, during a rollback or an adoption, and as long as a
refused batch stands.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from l1_contracts.reader import Deleted, L1Update, RollupMissing
from protocol.deposits import Deposit
from protocol.derive import Derivation, DerivationError, Derived, PostedBatch, Verdict
from protocol.signing import to_checksum_address
from protocol.state import State
from sequencer.builder import BlockBuilder
from sequencer.core.errors import SequencerError
from sequencer.db.models import BatchRow, BatchState, Origin
from sequencer.l1 import L1Batches, L1Deposit
from sequencer.node import Sequencer
from service.loop import Loop

log = logging.getLogger("sequencer.follower")


class FollowerError(SequencerError):
    """L1 cannot be followed as configured (another deployment's Rollup, a final batch contradicted):
    the message says what to fix; the sequencer keeps refusing txs."""


@dataclass(frozen=True, slots=True)
class Refused:
    """An L1 batch the follower did not adopt, and why."""

    index: int
    l1_tx_hash: bytes
    proposer: str
    verdict: Verdict
    reason: str
    final: bool = False  # L1 finalized it: no proof can delete it any more

    def describe(self) -> str:
        by = f" by {self.proposer}" if self.proposer else ""
        if self.verdict is Verdict.OFF_CHAIN:
            what = "builds on a wrong batch"
        else:
            what = f"is fraud ({self.verdict.value}: {self.reason})"
        if self.final:
            return (
                f"L1 batch {self.index}{by} {what}, and L1 finalized it unchallenged: this deployment's "
                "chain is wrong from there on and nothing can be posted on it; redeploy"
            )
        return (
            f"L1 batch {self.index}{by} {what}: not adopted; waiting for a fraud proof to delete it "
            "(the verifier's job) before posting again"
        )


@dataclass(frozen=True, slots=True)
class FollowResult:
    """What one `follow_once` did."""

    safe_block: int
    l1_batches: int
    rolled_back_to: int | None = None
    adopted: tuple[int, ...] = ()
    refused: Refused | None = None


def same_batch(row: BatchRow, batch: PostedBatch) -> bool:
    """Whether our stored batch is the one L1 holds at its index."""
    return (
        row.status != BatchState.OPEN
        and row.data_hash == batch.data_hash
        and row.prev_root == batch.prev_root
        and row.post_root == batch.post_root
        and row.trace_root == batch.trace_root
        and row.deposit_start + row.deposit_count == batch.deposit_end
    )


class Follower:
    """Keeps `node`'s chain in line with L1 through `builder`; `start()` runs it on a thread.

    `source` makes the L1 reader on first use (and again after a failure to make it), so that the
    service starts while L1 is down. `proposer` is our proposer's address, when known: an L1 batch it
    posted is adopted as local (the batcher answers its challenges)."""

    def __init__(
        self,
        node: Sequencer,
        builder: BlockBuilder,
        source: Callable[[], L1Batches],
        *,
        poll_s: float = 1.0,
        proposer: str | None = None,
    ) -> None:
        self.node = node
        self.builder = builder
        self._make_source = source
        self._source: L1Batches | None = None
        self.poll_s = poll_s
        self.proposer = None if proposer is None else to_checksum_address(bytes.fromhex(proposer[2:]))
        self.checked = -1  # L1 batches below this index agree with ours (-1: not read yet)
        self.refused: Refused | None = None
        self.synced = False  # L1 was read to its safe head once
        self.failures = 0
        self.last_error: str | None = None
        self.last: FollowResult | None = None
        self._loop = Loop("l1-follower", self.run)
        self._stop = self._loop.stopping
        self.retry_after_s = max(1, math.ceil(2 * poll_s))
        node.set_catching_up("reading the batches L1 holds", self.retry_after_s)

    # --- one pass ---------------------------------------------------------------------------------

    def follow_once(self) -> FollowResult:
        """Read L1 once and bring the sequencer's chain in line with it."""
        source = self.source()
        update = source.poll()
        if update.reset or self.checked < 0:
            self.checked, self.refused = self._first_unsettled(), None
        for change in update.changes:
            if isinstance(change, Deleted):
                self.checked = min(self.checked, change.index)
                if self.refused is not None and change.index <= self.refused.index:
                    log.info("L1 deleted batch %d, which was refused: following L1 again", change.index)
                    self.refused = None
        if self.refused is not None and update.finalized_count > self.refused.index:
            self.refused = replace(self.refused, final=True)
        live = source.live_batches
        rolled_back = self._roll_back_deleted(live, update)
        adopted = self._walk(live, source.deposits, update)
        source.forget_data(min(self.checked, update.finalized_count))  # in line and final: not needed
        self.synced = True
        self._show_status()
        self.last = FollowResult(update.safe_block, len(live), rolled_back, tuple(adopted), self.refused)
        return self.last

    def source(self) -> L1Batches:
        """The L1 reader, made (and its domain checked against ours) on first use."""
        if self._source is None:
            source = self._make_source()
            domain = source.domain()
            if domain != self.node.domain:
                raise FollowerError(
                    f"the Rollup L1 names has domain (chain {domain.chain_id}, "
                    f"{to_checksum_address(domain.verifying_contract)}), this sequencer signs for chain "
                    f"{self.node.domain.chain_id}: point MLROLLUP_DEPLOYMENT_FILE at this L1's deployment"
                )
            fees = source.fees()
            if fees != self.node.fees:
                ours = self.node.fees
                raise FollowerError(
                    f"the Rollup charges {fees.price} wei a fee unit to "
                    f"{to_checksum_address(fees.recipient)}, this sequencer {ours.price} to "
                    f"{to_checksum_address(ours.recipient)}: point MLROLLUP_DEPLOYMENT_FILE at this L1's "
                    "deployment (or fix MLROLLUP_FEE_PRICE and MLROLLUP_FEE_RECIPIENT)"
                )
            self._source = source
        return self._source

    def _first_unsettled(self) -> int:
        """Where a fresh read starts comparing: after our last final batch (L1 never changes those)."""
        final = self.node.store.last_batch_with(BatchState.FINAL)
        return 0 if final is None else final.id + 1

    def _roll_back_deleted(self, live: Sequence[PostedBatch], update: L1Update) -> int | None:
        """Roll back to L1's last batch if L1 lost batches we hold as posted; the index rolled back to."""
        count = len(live)
        rows = self.node.store.batches(count - 1, 1, (BatchState.POSTED, BatchState.CHALLENGED))
        row = rows[0] if rows else None
        if row is None:
            return None
        # Only a deletion after our append counts: a fresh reader (a restart) reads every deletion
        # since the deployment, and one from before our batch was appended says nothing of it.
        deleted = [
            c.index
            for c in update.changes
            if isinstance(c, Deleted)
            and c.index <= row.id
            and (not row.l1_block or c.l1_block >= row.l1_block)
        ]
        if not deleted and (not row.l1_block or row.l1_block > update.safe_block):
            return None  # only appends younger than what was read (or of an unknown block)
        reason = (
            f"L1 holds {count} batches and no longer batch {row.id}, appended in L1 block {row.l1_block}: "
            "a fraud proof or a reorg deleted it"
        )
        self._catch_up(f"rolling back to L1's batch {count - 1}: {reason}")
        self.builder.rollback_to(count, reason)
        self.checked = min(self.checked, count)
        return count

    def _walk(self, live: Sequence[PostedBatch], queue: Sequence[Deposit], update: L1Update) -> list[int]:
        """Compare L1's batches with ours from `checked` on; adopt or refuse the first that differ."""
        adopted = []
        store = self.node.store
        while self.checked < len(live):
            index = self.checked
            batch = live[index]
            row = store.batch(index)
            if row is not None and same_batch(row, batch):
                self.checked += 1
                continue
            refused = self.refused
            if refused is not None and (refused.index, refused.l1_tx_hash) == (index, batch.l1_tx_hash):
                break  # still there: nothing new to judge
            derived = self._derive(batch, queue)
            if derived.verdict is not Verdict.VALID:
                self._refuse(derived)
                break
            self._adopt(derived, row, queue, update)
            adopted.append(index)
            self.checked += 1
        return adopted

    def _derive(self, batch: PostedBatch, queue: Sequence[Deposit]) -> Derived:
        """The verdict on L1's batch, derived on our state after the batch before it (which agrees
        with L1's: every batch below `checked` does)."""
        index = batch.index
        base = State() if index == 0 else self.node.state_at_batch(index - 1)
        chain = Derivation(self.node.domain, self.node.fees, base, base_index=index)
        return chain.push(batch, queue)

    def _adopt(
        self, derived: Derived, row: BatchRow | None, queue: Sequence[Deposit], update: L1Update
    ) -> None:
        batch = derived.batch
        ours = self.proposer is not None and batch.proposer == self.proposer
        where = "at our next index" if row is None else f"in place of our batch {row.id} ({row.status})"
        note = f"L1 batch {batch.index} by {batch.proposer or 'an unknown proposer'} is valid, {where}"
        self._catch_up(f"adopting {note}")
        known = self.node.store.next_deposit_index()
        if known < batch.deposit_end:
            # The batch consumes deposits the deposit watcher has not stored yet. The reader does not
            # give their blocks: the block read is an upper bound.
            items = [L1Deposit(d, update.safe_block) for d in queue[known : batch.deposit_end]]
            self.node.ingest_deposits(items)
        self.builder.adopt_foreign(derived, origin=Origin.LOCAL if ours else Origin.FOREIGN, note=note)
        if self.refused is not None and self.refused.index == batch.index:
            self.refused = None

    def _refuse(self, derived: Derived) -> None:
        batch = derived.batch
        refused = Refused(batch.index, batch.l1_tx_hash, batch.proposer, derived.verdict, derived.reason)
        self.refused = refused
        log.error("%s", refused.describe())
        self.node.store.log_sync("refuse", batch.index, refused.describe(), self.node.clock())
        self.node.metrics.l1_sync.labels("refuse").inc()

    # --- the status -------------------------------------------------------------------------------

    def _catch_up(self, reason: str) -> None:
        self.node.set_catching_up(reason, self.retry_after_s)

    def _show_status(self) -> None:
        if self.refused is not None:
            self._catch_up(self.refused.describe())
        elif self.synced:
            self.node.set_catching_up(None)

    def status(self) -> dict[str, object]:
        """What `/readyz` shows of the follower."""
        last = self.last
        return {
            "running": self.alive,
            "synced": self.synced,
            "l1_block": None if last is None else last.safe_block,
            "l1_batches": None if last is None else last.l1_batches,
            "in_line_to": self.checked,
            "refused": None if self.refused is None else self.refused.describe(),
            "failures": self.failures,
            "last_error": self.last_error,
        }

    # --- the loop ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Follow L1 every `poll_s` until `stop()`; a failure is logged and retried with backoff."""
        backoff = self.poll_s
        while not self._stop.is_set():
            try:
                self.follow_once()
                self.failures, self.last_error, backoff = 0, None, self.poll_s
            except Exception as exc:  # L1 transport, a half-read L1 view, the database: retried
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                # No Rollup on L1 (a devnet restarted): nothing it reads can be posted to, so take no txs.
                if isinstance(exc, DerivationError | FollowerError | RollupMissing) or not self.synced:
                    self._catch_up(f"cannot follow L1 yet: {self.last_error}")
                log.warning("following L1 failed (%d in a row): %s", self.failures, self.last_error)
                if isinstance(exc, FollowerError):
                    self._source = None
                backoff = min(backoff * 2, 30.0)
            self._stop.wait(backoff if self.failures else self.poll_s)

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._loop.stop(timeout)

    @property
    def alive(self) -> bool:
        return self._loop.alive
