"""Engines and sessions: SQLite in WAL mode with a busy timeout, or PostgreSQL through psycopg 3.

SQLite: every connection sets `journal_mode=WAL` (readers never wait for the writer),
`synchronous` (FULL by default: a commit survives power loss), `busy_timeout` (writers queue instead
of failing) and `foreign_keys`. Write transactions start with `BEGIN IMMEDIATE` so two writers never
deadlock on a lock upgrade; reads use a plain deferred `BEGIN`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str | URL, *, sqlite_synchronous: str = "FULL") -> Engine:
    """An engine for `url` (already checked by `sequencer.core.config.normalize_database_url`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, pool_size=8, max_overflow=8)
    engine = create_engine(
        parsed,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        pool_size=8,
        max_overflow=8,
    )
    synchronous = sqlite_synchronous.upper()
    if synchronous not in ("FULL", "NORMAL"):
        raise ValueError(f"sqlite synchronous must be FULL or NORMAL, got {sqlite_synchronous!r}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver leaves BEGIN to the "begin" hook below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
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
    def connect(cls, url: str | URL, *, sqlite_synchronous: str = "FULL") -> Database:
        return cls(make_engine(url, sqlite_synchronous=sqlite_synchronous))

    def read(self) -> Session:
        return self._read()

    def write(self) -> Session:
        return self._write()

    def dispose(self) -> None:
        self.engine.dispose()
