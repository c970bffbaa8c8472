"""The verifier's tables as SQLAlchemy 2 typed models (the same on SQLite and PostgreSQL).

Every table is prefixed `verifier_`, so a verifier may share a PostgreSQL database with a sequencer.
Hashes and roots are `LargeBinary` (32 bytes); addresses are checksummed text; wei amounts are u256
at most, wider than any SQL integer, and stored as decimal text (`Wei`).

- `verifier_batches`: every batch judged, one row per appending L1 transaction (an index deleted by a
  fraud proof and appended again is a new row): the posted roots, the honest ones, the verdict.
- `verifier_disputes`: every challenge the verifier took part in (its own, or another challenger's
  that it followed): the L1 transactions it sent with their gas, the phase and the outcome.
- `verifier_payouts`: every `withdrawPayout` it sent.
- `verifier_meta`: the Rollup the database belongs to (checked at start) and the last L1 block scanned.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, LargeBinary, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class Wei(TypeDecorator[int]):
    """A wei amount stored as decimal text: exact on every backend."""

    impl = String(80)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | None:
        return None if value is None else str(int(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class Base(DeclarativeBase):
    pass


class BatchState:
    """Where a judged batch stands on L1."""

    LIVE = "live"
    FINALIZED = "finalized"
    DELETED = "deleted"  # rolled back by a fraud proof (or reorganised away)


class JudgedBatchRow(Base):
    __tablename__ = "verifier_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_index: Mapped[int] = mapped_column(BigInteger, index=True)
    l1_tx_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    l1_block: Mapped[int] = mapped_column(BigInteger)
    l1_timestamp: Mapped[int] = mapped_column(BigInteger)
    proposer: Mapped[str] = mapped_column(String(42))
    verdict: Mapped[str] = mapped_column(String(16), index=True)
    prev_root: Mapped[bytes] = mapped_column(LargeBinary(32))
    post_root: Mapped[bytes] = mapped_column(LargeBinary(32))  # as posted
    trace_root: Mapped[bytes] = mapped_column(LargeBinary(32))  # as posted
    honest_post_root: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # None: data did not decode
    honest_trace_root: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    step_count: Mapped[int | None] = mapped_column(Integer)  # of the honest execution
    deposit_start: Mapped[int] = mapped_column(BigInteger)
    deposit_end: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    judged_at: Mapped[float] = mapped_column(Float)


class DisputePhase:
    """The verifier's view of a dispute (L1's `getChallenge` phase is the truth; this is what we did)."""

    CHALLENGING = "challenging"  # decided to challenge; the challenge is not known to be mined yet
    AWAITING_REVEAL = "awaiting_reveal"
    AWAITING_PROOF = "awaiting_proof"
    RESOLVED = "resolved"


class Outcome:
    """How a dispute ended, for the challenger's side."""

    WON = "won"  # fraud proven, bad last step, or no reveal: the batch deleted, its proposer slashed
    LOST = "lost"  # no proof in time: the batch survived, the challenger's bond went to the proposer
    ROLLED_BACK = "rolled_back"  # an earlier batch's fraud deleted this one; the bond came back
    MISSED = "missed"  # the batch was wrong but its challenge window closed before a challenge
    UNPROVABLE = "unprovable"  # no proof the Rollup accepts could be built (see `note`)


class DisputeRow(Base):
    __tablename__ = "verifier_disputes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_index: Mapped[int] = mapped_column(BigInteger, index=True)
    batch_tx_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)  # the appending tx
    verdict: Mapped[str] = mapped_column(String(16))
    challenger: Mapped[str | None] = mapped_column(String(42))
    ours: Mapped[bool] = mapped_column(Boolean)  # our account challenged
    phase: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str | None] = mapped_column(String(16))
    resolution: Mapped[str | None] = mapped_column(String(24))  # the L1 `Resolution`, lower case
    step_index: Mapped[int | None] = mapped_column(Integer)  # of the resolution (the proven step)
    revealed_steps: Mapped[int | None] = mapped_column(Integer)
    reveal_deadline: Mapped[int | None] = mapped_column(BigInteger)
    proof_deadline: Mapped[int | None] = mapped_column(BigInteger)
    challenge_tx: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    challenge_block: Mapped[int | None] = mapped_column(BigInteger)
    challenge_gas: Mapped[int | None] = mapped_column(BigInteger)  # None: not sent by us
    proof_kind: Mapped[str | None] = mapped_column(String(16))  # "step" (proveFraud) or "last_step"
    proof_tx: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    proof_gas: Mapped[int | None] = mapped_column(BigInteger)
    timeout_tx: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    timeout_gas: Mapped[int | None] = mapped_column(BigInteger)
    resolved_tx: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # whoever sent it
    resolved_block: Mapped[int | None] = mapped_column(BigInteger)
    payout: Mapped[int | None] = mapped_column(Wei)  # credited to us by the resolution
    slashed: Mapped[int | None] = mapped_column(Wei)  # the proposer's bond taken
    withdraw_tx: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    withdraw_gas: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    resolved_at: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_verifier_disputes_phase", "phase"),)


class PayoutRow(Base):
    __tablename__ = "verifier_payouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    l1_tx_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    amount: Mapped[int] = mapped_column(Wei)
    gas_used: Mapped[int] = mapped_column(BigInteger)
    withdrawn_at: Mapped[float] = mapped_column(Float)


class MetaRow(Base):
    __tablename__ = "verifier_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
