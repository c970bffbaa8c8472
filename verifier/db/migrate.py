"""Run the Alembic migrations programmatically (`upgrade head` at start) and compare with the models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from verifier.db.models import Base

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The verifier's tables live in their own Alembic version table, so that a verifier and a sequencer
# pointed at one PostgreSQL database (docker compose) never read each other's revisions.
VERSION_TABLE = "verifier_alembic_version"
# Any fixed number, not the sequencer's: the key of the PostgreSQL advisory lock around migrations.
MIGRATION_LOCK = 0x6D6C7665726966  # "mlverif"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade_head(engine: Engine) -> None:
    """Bring the database at `engine` to the newest revision (a no-op when it is there already).

    Safe when several processes start at once on one database: one migrates while the others wait,
    then find it done. On SQLite the transaction takes the write lock at BEGIN (a deferred one that
    reads first and then writes fails at once with "database is locked" instead of waiting); on
    PostgreSQL an advisory lock held to the end of the transaction does the same."""
    config = alembic_config()
    writer = engine.execution_options(sqlite_immediate=True) if engine.dialect.name == "sqlite" else engine
    with writer.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def schema_differences(engine: Engine) -> list[Any]:
    """What differs between the migrated database and the models (empty when they agree)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "version_table": VERSION_TABLE,
                "include_name": _ours,
            },
        )
        return list(compare_metadata(context, Base.metadata))


def _ours(name: str | None, type_: str, parent_names: Any) -> bool:
    """Compare only the verifier's tables (a shared database may hold the sequencer's too)."""
    return type_ != "table" or name in Base.metadata.tables
