"""Engines and sessions: SQLite in WAL mode with a busy timeout, or PostgreSQL through psycopg 3.

As the sequencer's (which the import rules keep apart): every SQLite connection sets
`journal_mode=WAL` (the API reads while the loop writes), `synchronous=FULL` (a recorded challenge
survives power loss), `busy_timeout` (writers queue instead of failing); write transactions start
with `BEGIN IMMEDIATE` so two writers never deadlock on a lock upgrade.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str | URL) -> Engine:
    """An engine for `url` (already checked by `verifier.core.config.normalize_database_url`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, pool_size=4, max_overflow=4)
    engine = create_engine(
        parsed,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        pool_size=4,
        max_overflow=4,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver leaves BEGIN to the "begin" hook below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """An engine and its two session factories: `read()` and `write()` (an immediate transaction)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read = sessionmaker(engine, expire_on_commit=False)
        self.writer = engine.execution_options(sqlite_immediate=True) if is_sqlite(engine.url) else engine
        self._write = sessionmaker(self.writer, expire_on_commit=False)

    @classmethod
    def connect(cls, url: str | URL) -> Database:
        return cls(make_engine(url))

    def read(self) -> Session:
        return self._read()

    def write(self) -> Session:
        return self._write()

    def dispose(self) -> None:
        self.engine.dispose()
