"""Initial schema: txs, blocks, steps, batches, leaves, leaf_undo, deposits, commitments, meta.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("first_block", sa.BigInteger(), nullable=True),
        sa.Column("last_block", sa.BigInteger(), nullable=True),
        sa.Column("tx_count", sa.Integer(), nullable=False),
        sa.Column("data_bytes", sa.Integer(), nullable=False),
        sa.Column("deposit_start", sa.BigInteger(), nullable=False),
        sa.Column("deposit_count", sa.Integer(), nullable=False),
        sa.Column("step_count", sa.Integer(), nullable=False),
        sa.Column("prev_root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("post_root", sa.LargeBinary(length=32), nullable=True),
        sa.Column("trace_root", sa.LargeBinary(length=32), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("data_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("opened_at", sa.Float(), nullable=False),
        sa.Column("sealed_at", sa.Float(), nullable=True),
        sa.Column("l1_tx_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("l1_block", sa.BigInteger(), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("posted_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_batches_status", "batches", ["status"])

    op.create_table(
        "commitments",
        sa.Column("task_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("miner", sa.LargeBinary(length=20), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", "miner"),
    )
    op.create_table(
        "deposits",
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("recipient", sa.LargeBinary(length=20), nullable=False),
        sa.Column("amount", sa.String(length=40), nullable=False),
        sa.Column("l1_block", sa.BigInteger(), nullable=False),
        sa.Column("l1_tx_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("seen_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("index"),
    )
    op.create_index("ix_deposits_block_number", "deposits", ["block_number"])

    op.create_table(
        "leaf_undo",
        sa.Column("batch_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("prev_value", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", "key"),
    )
    op.create_table(
        "leaves",
        sa.Column("key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "sequencer_meta",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "steps",
        sa.Column("batch_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("batch_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("state_root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("job_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "batch_index"),
    )
    op.create_table(
        "txs",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("tx_type", sa.SmallInteger(), nullable=False),
        sa.Column("sender", sa.LargeBinary(length=20), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_index", sa.Integer(), nullable=True),
        sa.Column("reason", sa.SmallInteger(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_id", sa.BigInteger(), nullable=True),
        sa.Column("first_step", sa.Integer(), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.Column("executed_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("hash"),
    )
    op.create_index("ix_txs_block_number", "txs", ["block_number"])
    op.create_index("ix_txs_sender", "txs", ["sender"])
    op.create_index("ix_txs_status_seq", "txs", ["status", "seq"])

    op.create_table(
        "blocks",
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("pre_root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("post_root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("trace_root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("tx_count", sa.Integer(), nullable=False),
        sa.Column("deposit_start", sa.BigInteger(), nullable=False),
        sa.Column("deposit_end", sa.BigInteger(), nullable=False),
        sa.Column("input_offset", sa.Integer(), nullable=False),
        sa.Column("step_offset", sa.Integer(), nullable=False),
        sa.Column("step_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("exec_seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
        ),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_index("ix_blocks_batch_id", "blocks", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_blocks_batch_id", table_name="blocks")

    op.drop_table("blocks")
    op.drop_index("ix_txs_status_seq", table_name="txs")
    op.drop_index("ix_txs_sender", table_name="txs")
    op.drop_index("ix_txs_block_number", table_name="txs")

    op.drop_table("txs")
    op.drop_table("steps")
    op.drop_table("sequencer_meta")
    op.drop_table("leaves")
    op.drop_table("leaf_undo")
    op.drop_index("ix_deposits_block_number", table_name="deposits")

    op.drop_table("deposits")
    op.drop_table("commitments")
    op.drop_index("ix_batches_status", table_name="batches")

    op.drop_table("batches")
