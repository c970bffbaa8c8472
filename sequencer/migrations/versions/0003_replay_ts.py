"""A tx undone by a rollback remembers the timestamp of the batch it ran in, and runs again at it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("txs") as batch:
        batch.add_column(sa.Column("replay_ts", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("txs") as batch:
        batch.drop_column("replay_ts")
