"""Every read and write of the verifier's database. Each method is one transaction."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update

from protocol.derive import Derived
from verifier.core.errors import StartupError
from verifier.db.migrate import upgrade_head
from verifier.db.models import (
    BatchState,
    DisputePhase,
    DisputeRow,
    JudgedBatchRow,
    MetaRow,
    PayoutRow,
)
from verifier.db.session import Database

META_CHAIN_ID = "chain_id"
META_ROLLUP = "rollup"
META_SCANNED = "last_block_scanned"


class Store:
    """The verifier's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def migrate(self) -> None:
        """Run the migrations to head (serialized across processes)."""
        upgrade_head(self.db.engine)

    # --- meta ----------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self.db.read() as s:
            row = s.get(MetaRow, key)
            return None if row is None else row.value

    def set_meta(self, key: str, value: str) -> None:
        with self.db.write() as s, s.begin():
            row = s.get(MetaRow, key)
            if row is None:
                s.add(MetaRow(key=key, value=value))
            else:
                row.value = value

    def check_deployment(self, chain_id: int, rollup: str) -> None:
        """Bind a fresh database to this Rollup; `StartupError` when it already belongs to another."""
        with self.db.write() as s, s.begin():
            stored = {r.key: r.value for r in s.scalars(select(MetaRow))}
            if META_ROLLUP not in stored:
                s.add(MetaRow(key=META_CHAIN_ID, value=str(chain_id)))
                s.add(MetaRow(key=META_ROLLUP, value=rollup))
                return
        if stored[META_ROLLUP] != rollup or stored.get(META_CHAIN_ID) != str(chain_id):
            raise StartupError(
                f"this database belongs to the Rollup {stored[META_ROLLUP]} on chain "
                f"{stored.get(META_CHAIN_ID)}, not {rollup} on chain {chain_id}: give the verifier a "
                "database of its own for this deployment (--database-url)"
            )

    def scanned_block(self) -> int | None:
        """The last L1 block scanned, as last recorded."""
        value = self.get_meta(META_SCANNED)
        return None if value is None else int(value)

    def set_scanned_block(self, block: int) -> None:
        self.set_meta(META_SCANNED, str(block))

    # --- judged batches ------------------------------------------------------------------------------

    def record_verdict(self, derived: Derived, at: float | None = None) -> bool:
        """Store the verdict of one posted batch (live); True when the batch was not recorded before
        (a restart derives every batch again and finds them here)."""
        b = derived.batch
        result = derived.result
        fields: dict[str, Any] = {
            "batch_index": b.index,
            "l1_block": b.l1_block,
            "l1_timestamp": b.l1_timestamp,
            "proposer": b.proposer,
            "verdict": derived.verdict.value,
            "prev_root": b.prev_root,
            "post_root": b.post_root,
            "trace_root": b.trace_root,
            "honest_post_root": None if result is None else result.post_root,
            "honest_trace_root": None if result is None else result.trace_root,
            "step_count": None if result is None else len(result.steps),
            "deposit_start": b.deposit_start,
            "deposit_end": b.deposit_end,
            "reason": derived.reason,
            "status": BatchState.LIVE,
        }
        with self.db.write() as s, s.begin():
            row = s.scalar(select(JudgedBatchRow).where(JudgedBatchRow.l1_tx_hash == b.l1_tx_hash))
            if row is not None:
                for key, value in fields.items():
                    setattr(row, key, value)
                return False
            s.add(JudgedBatchRow(l1_tx_hash=b.l1_tx_hash, judged_at=at or time.time(), **fields))
            return True

    def mark_deleted(self, index: int) -> None:
        """L1 deleted batch `index` (the live row at that index)."""
        with self.db.write() as s, s.begin():
            s.execute(
                update(JudgedBatchRow)
                .where(JudgedBatchRow.batch_index == index, JudgedBatchRow.status == BatchState.LIVE)
                .values(status=BatchState.DELETED)
            )

    def mark_finalized(self, count: int) -> None:
        """L1 finalized the batches below `count`."""
        with self.db.write() as s, s.begin():
            s.execute(
                update(JudgedBatchRow)
                .where(JudgedBatchRow.batch_index < count, JudgedBatchRow.status == BatchState.LIVE)
                .values(status=BatchState.FINALIZED)
            )

    def forget_live(self) -> None:
        """The reader starts over (an L1 reorg): every live row is void until it is derived again."""
        with self.db.write() as s, s.begin():
            s.execute(
                update(JudgedBatchRow)
                .where(JudgedBatchRow.status == BatchState.LIVE)
                .values(status=BatchState.DELETED)
            )

    def batches(self, after: int, limit: int, verdicts: Sequence[str] = ()) -> list[JudgedBatchRow]:
        """Judged batches in the order they were first judged (row id), after row `after`."""
        q = select(JudgedBatchRow).where(JudgedBatchRow.id > after)
        if verdicts:
            q = q.where(JudgedBatchRow.verdict.in_(list(verdicts)))
        with self.db.read() as s:
            return list(s.scalars(q.order_by(JudgedBatchRow.id).limit(limit)))

    def batch_by_tx(self, tx_hash: bytes) -> JudgedBatchRow | None:
        with self.db.read() as s:
            return s.scalar(select(JudgedBatchRow).where(JudgedBatchRow.l1_tx_hash == tx_hash))

    def latest_batch(self) -> JudgedBatchRow | None:
        """The highest-index batch judged that L1 still holds."""
        with self.db.read() as s:
            return s.scalar(
                select(JudgedBatchRow)
                .where(JudgedBatchRow.status != BatchState.DELETED)
                .order_by(JudgedBatchRow.batch_index.desc(), JudgedBatchRow.id.desc())
                .limit(1)
            )

    def verdict_counts(self) -> dict[str, int]:
        """How many batches got each verdict (every posted batch counts once)."""
        with self.db.read() as s:
            rows = s.execute(select(JudgedBatchRow.verdict, func.count()).group_by(JudgedBatchRow.verdict))
            return {str(v): int(n) for v, n in rows}

    # --- disputes ------------------------------------------------------------------------------------

    def open_dispute(self, **fields: Any) -> DisputeRow:
        """A new dispute row (`batch_index`, `batch_tx_hash`, `verdict`, `phase`, `ours`, …)."""
        now = time.time()
        fields.setdefault("note", "")
        row = DisputeRow(opened_at=now, updated_at=now, **fields)
        with self.db.write() as s, s.begin():
            s.add(row)
        return row

    def update_dispute(self, dispute_id: int, **fields: Any) -> DisputeRow:
        """Change fields of a dispute; returns it as stored."""
        with self.db.write() as s, s.begin():
            row = s.get(DisputeRow, dispute_id)
            assert row is not None, f"no dispute {dispute_id}"
            for key, value in fields.items():
                setattr(row, key, value)
            row.updated_at = time.time()
            return row

    def delete_dispute(self, dispute_id: int) -> None:
        """Forget a dispute that never reached L1 (a challenge decided but not sent)."""
        with self.db.write() as s, s.begin():
            row = s.get(DisputeRow, dispute_id)
            if row is not None:
                s.delete(row)

    def dispute(self, dispute_id: int) -> DisputeRow | None:
        with self.db.read() as s:
            return s.get(DisputeRow, dispute_id)

    def disputes_for(self, batch_tx_hash: bytes) -> list[DisputeRow]:
        """The disputes of one posted batch, oldest first."""
        with self.db.read() as s:
            q = select(DisputeRow).where(DisputeRow.batch_tx_hash == batch_tx_hash).order_by(DisputeRow.id)
            return list(s.scalars(q))

    def unresolved_disputes(self) -> list[DisputeRow]:
        with self.db.read() as s:
            q = select(DisputeRow).where(DisputeRow.phase != DisputePhase.RESOLVED).order_by(DisputeRow.id)
            return list(s.scalars(q))

    def disputes(self, after: int, limit: int, outcomes: Sequence[str] = ()) -> list[DisputeRow]:
        """Disputes in id order after `after`, optionally only those with one of `outcomes`."""
        q = select(DisputeRow).where(DisputeRow.id > after)
        if outcomes:
            q = q.where(DisputeRow.outcome.in_(list(outcomes)))
        with self.db.read() as s:
            return list(s.scalars(q.order_by(DisputeRow.id).limit(limit)))

    def dispute_counts(self) -> dict[str, int]:
        """Disputes by outcome (`open` for those not resolved yet)."""
        with self.db.read() as s:
            rows = s.execute(select(DisputeRow.outcome, func.count()).group_by(DisputeRow.outcome))
            return {str(outcome or "open"): int(n) for outcome, n in rows}

    def gas_spent(self) -> dict[str, int]:
        """L1 gas of the transactions we sent, by kind (challenge, proof, timeout, withdraw)."""
        with self.db.read() as s:
            challenge, proof, timeout = s.execute(
                select(
                    func.sum(DisputeRow.challenge_gas),
                    func.sum(DisputeRow.proof_gas),
                    func.sum(DisputeRow.timeout_gas),
                )
            ).one()
            withdraw = s.scalar(select(func.sum(PayoutRow.gas_used)))
        return {
            "challenge": int(challenge or 0),
            "proof": int(proof or 0),
            "timeout": int(timeout or 0),
            "withdraw": int(withdraw or 0),
        }

    # --- payouts -------------------------------------------------------------------------------------

    def record_payout(self, tx_hash: bytes, amount: int, gas_used: int) -> PayoutRow:
        """A `withdrawPayout` we sent; the resolved disputes whose payout it took point at it."""
        now = time.time()
        row = PayoutRow(l1_tx_hash=tx_hash, amount=amount, gas_used=gas_used, withdrawn_at=now)
        with self.db.write() as s, s.begin():
            s.add(row)
            s.execute(
                update(DisputeRow)
                .where(
                    DisputeRow.phase == DisputePhase.RESOLVED,
                    DisputeRow.withdraw_tx.is_(None),
                    DisputeRow.payout.is_not(None),
                    DisputeRow.payout != 0,
                )
                .values(withdraw_tx=tx_hash, withdraw_gas=gas_used, updated_at=now)
            )
        return row

    def payouts(self) -> list[PayoutRow]:
        with self.db.read() as s:
            return list(s.scalars(select(PayoutRow).order_by(PayoutRow.id)))

    def payouts_total(self) -> int:
        """Wei withdrawn so far (summed in Python: the amounts are decimal text)."""
        return sum(p.amount for p in self.payouts())
