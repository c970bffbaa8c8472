"""Initial schema: judged batches, disputes, payouts, meta.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WEI = sa.String(length=80)  # verifier.db.models.Wei: decimal text


def upgrade() -> None:
    op.create_table(
        "verifier_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_index", sa.BigInteger(), nullable=False),
        sa.Column("l1_tx_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("l1_block", sa.BigInteger(), nullable=False),
        sa.Column("l1_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("proposer", sa.String(length=42), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("prev_root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("post_root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("trace_root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("honest_post_root", sa.LargeBinary(length=32), nullable=True),
        sa.Column("honest_trace_root", sa.LargeBinary(length=32), nullable=True),
        sa.Column("step_count", sa.Integer(), nullable=True),
        sa.Column("deposit_start", sa.BigInteger(), nullable=False),
        sa.Column("deposit_end", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("judged_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("l1_tx_hash"),
    )
    op.create_index("ix_verifier_batches_batch_index", "verifier_batches", ["batch_index"])
    op.create_index("ix_verifier_batches_verdict", "verifier_batches", ["verdict"])

    op.create_table(
        "verifier_disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_index", sa.BigInteger(), nullable=False),
        sa.Column("batch_tx_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("challenger", sa.String(length=42), nullable=True),
        sa.Column("ours", sa.Boolean(), nullable=False),
        sa.Column("phase", sa.String(length=24), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("resolution", sa.String(length=24), nullable=True),
        sa.Column("step_index", sa.Integer(), nullable=True),
        sa.Column("revealed_steps", sa.Integer(), nullable=True),
        sa.Column("reveal_deadline", sa.BigInteger(), nullable=True),
        sa.Column("proof_deadline", sa.BigInteger(), nullable=True),
        sa.Column("challenge_tx", sa.LargeBinary(length=32), nullable=True),
        sa.Column("challenge_block", sa.BigInteger(), nullable=True),
        sa.Column("challenge_gas", sa.BigInteger(), nullable=True),
        sa.Column("proof_kind", sa.String(length=16), nullable=True),
        sa.Column("proof_tx", sa.LargeBinary(length=32), nullable=True),
        sa.Column("proof_gas", sa.BigInteger(), nullable=True),
        sa.Column("timeout_tx", sa.LargeBinary(length=32), nullable=True),
        sa.Column("timeout_gas", sa.BigInteger(), nullable=True),
        sa.Column("resolved_tx", sa.LargeBinary(length=32), nullable=True),
        sa.Column("resolved_block", sa.BigInteger(), nullable=True),
        sa.Column("payout", WEI, nullable=True),
        sa.Column("slashed", WEI, nullable=True),
        sa.Column("withdraw_tx", sa.LargeBinary(length=32), nullable=True),
        sa.Column("withdraw_gas", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("resolved_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_verifier_disputes_batch_index", "verifier_disputes", ["batch_index"])
    op.create_index("ix_verifier_disputes_batch_tx_hash", "verifier_disputes", ["batch_tx_hash"])
    op.create_index("ix_verifier_disputes_phase", "verifier_disputes", ["phase"])

    op.create_table(
        "verifier_payouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("l1_tx_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("amount", WEI, nullable=False),
        sa.Column("gas_used", sa.BigInteger(), nullable=False),
        sa.Column("withdrawn_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("l1_tx_hash"),
    )
    op.create_table(
        "verifier_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("verifier_meta")
    op.drop_table("verifier_payouts")
    op.drop_table("verifier_disputes")
    op.drop_table("verifier_batches")
