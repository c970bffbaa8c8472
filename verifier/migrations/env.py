"""Alembic environment: migrates the connection it is given, else the verifier's database URL.

`verifier.db.migrate.upgrade_head` passes a live connection (`config.attributes["connection"]`); by
hand (`alembic -c verifier/alembic.ini upgrade head`) the URL comes from
`MLROLLUP_VERIFIER_DATABASE_URL`. The version table is the verifier's own (`verifier_alembic_version`).
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine

from verifier.db.migrate import VERSION_TABLE
from verifier.db.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    import os

    from verifier.core.config import normalize_database_url

    raw = os.environ.get("MLROLLUP_VERIFIER_DATABASE_URL")
    if not raw:
        raise SystemExit("set MLROLLUP_VERIFIER_DATABASE_URL to the database to migrate")
    return normalize_database_url(raw).render_as_string(hide_password=False)


def _ours(name: str | None, type_: str, parent_names: Any) -> bool:
    """Only the verifier's tables: a shared database may hold the sequencer's too."""
    return type_ != "table" or name in target_metadata.tables


OPTIONS: dict[str, Any] = {
    "target_metadata": target_metadata,
    "render_as_batch": True,
    "version_table": VERSION_TABLE,
    "include_name": _ours,
}


def _run(connection: Connection) -> None:
    context.configure(connection=connection, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_url(), literal_binds=True, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url())
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
