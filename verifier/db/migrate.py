"""The verifier's Alembic migrations (`upgrade head` at start, serialized across processes) and the
comparison with its models, through `service.db.Migrations`.

The verifier's tables have their own version table, so that a verifier and a sequencer pointed at
one PostgreSQL database (docker compose) never read each other's revisions."""

from __future__ import annotations

from pathlib import Path

from service.db import Migrations
from verifier.db.models import Base

VERSION_TABLE = "verifier_alembic_version"
# Any fixed number, not the sequencer's: the key of the PostgreSQL advisory lock around migrations.
MIGRATIONS = Migrations(
    Path(__file__).resolve().parent.parent / "migrations", Base.metadata, 0x6D6C7665726966, VERSION_TABLE
)

upgrade_head = MIGRATIONS.upgrade_head
head_revision = MIGRATIONS.head_revision
current_revision = MIGRATIONS.current_revision
schema_differences = MIGRATIONS.schema_differences
