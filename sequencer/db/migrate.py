"""The sequencer's Alembic migrations (`upgrade head` at start, serialized across processes) and the
comparison with its models, through `service.db.Migrations`."""

from __future__ import annotations

from pathlib import Path

from sequencer.db.models import Base
from service.db import Migrations

# The default version table; the lock key is any fixed number ("mlrollup"), not the verifier's.
MIGRATIONS = Migrations(
    Path(__file__).resolve().parent.parent / "migrations", Base.metadata, 0x6D6C726F6C6C7570
)

upgrade_head = MIGRATIONS.upgrade_head
head_revision = MIGRATIONS.head_revision
current_revision = MIGRATIONS.current_revision
schema_differences = MIGRATIONS.schema_differences
