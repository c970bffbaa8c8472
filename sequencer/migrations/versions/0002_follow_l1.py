"""Following L1: batches and txs say whose they are, foreign txs may have no sender, and a log of what
the follower did (rollbacks, adopted batches, refused ones).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=8), server_default="local", nullable=False))
        batch.add_column(sa.Column("proposer", sa.String(length=42), nullable=True))
    with op.batch_alter_table("txs") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=8), server_default="local", nullable=False))
        batch.alter_column("sender", existing_type=sa.LargeBinary(length=20), nullable=True)
    op.create_table(
        "sync_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("sync_log")
    with op.batch_alter_table("txs") as batch:
        batch.alter_column("sender", existing_type=sa.LargeBinary(length=20), nullable=False)
        batch.drop_column("origin")
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("proposer")
        batch.drop_column("origin")
