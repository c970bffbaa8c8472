"""Alembic environment: migrates the connection it is given, else the sequencer's database URL.

`sequencer.db.migrate.upgrade_head` passes a live connection (`config.attributes["connection"]`);
by hand (`alembic -c sequencer/alembic.ini upgrade head`) the URL comes from the sequencer's
settings: `MLROLLUP_DATABASE_URL` or `DATABASE_URL`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from sequencer.db.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    import os

    from sequencer.core.config import normalize_database_url

    raw = os.environ.get("MLROLLUP_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not raw:
        raise SystemExit("set MLROLLUP_DATABASE_URL (or DATABASE_URL) to the database to migrate")
    return normalize_database_url(raw).render_as_string(hide_password=False)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
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
