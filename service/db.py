"""Databases of the roles: URL checks, engines, sessions and Alembic migrations, written once.

The sequencer and the verifier each keep their own database (SQLite by default, PostgreSQL by URL)
with the same rules:

- **URLs** (`normalize_database_url`): `sqlite:///file` or `postgresql://…` (driven by psycopg 3);
  an in-memory SQLite database is refused (it would forget what the role must never lose), and a
  SQLite file's directory is created.
- **SQLite** (`make_engine`): every connection sets `journal_mode=WAL` (readers never wait for the
  writer), `synchronous` (FULL by default: a commit survives power loss), `busy_timeout` (writers
  queue instead of failing) and `foreign_keys`. Write transactions start with `BEGIN IMMEDIATE`
  (`Database.write`), so two writers never deadlock on a lock upgrade; reads use a plain `BEGIN`.
- **Migrations** (`Migrations`): `upgrade_head` at start, serialized across processes (on SQLite the
  immediate transaction, on PostgreSQL an advisory lock per role), each role with its own Alembic
  version table and comparing only its own tables, so two roles may share one PostgreSQL database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 30_000


def normalize_database_url(value: str, *, what_is_lost: str = "what it stored") -> URL:
    """Parse and check a database URL; `postgresql://` is driven by psycopg 3. Creates a SQLite file's
    directory. `ValueError` with the accepted forms otherwise (`what_is_lost` names what an in-memory
    database would lose, for the message)."""
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(
            f"{value!r} is not a database URL: use sqlite:///path/to/file.db or "
            "postgresql://user@host:5432/dbname"
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise ValueError(f"driver {driver!r} is not installed: use postgresql+psycopg:// (psycopg 3)")
        return url.set(drivername="postgresql+psycopg")
    if backend != "sqlite" or driver not in ("", "pysqlite"):
        raise ValueError(f"unsupported database {url.drivername!r}: use sqlite:/// or postgresql://")
    if url.database in (None, "", ":memory:"):
        raise ValueError(f"an in-memory SQLite database would lose {what_is_lost}: give a file path")
    parent = Path(url.database).expanduser().resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the database directory {parent}: {exc.strerror}") from None
    return url


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str | URL, *, sqlite_synchronous: str = "FULL", pool_size: int = 8) -> Engine:
    """An engine for `url` (already checked by `normalize_database_url`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)
    engine = create_engine(
        parsed,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        pool_size=pool_size,
        max_overflow=pool_size,
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
    def connect(cls, url: str | URL, *, sqlite_synchronous: str = "FULL", pool_size: int = 8) -> Database:
        return cls(make_engine(url, sqlite_synchronous=sqlite_synchronous, pool_size=pool_size))

    def read(self) -> Session:
        return self._read()

    def write(self) -> Session:
        return self._write()

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass(frozen=True)
class Migrations:
    """One role's Alembic migrations: where the scripts are, its version table, the key of its
    PostgreSQL advisory lock, and the models they must produce."""

    script_location: Path
    metadata: MetaData
    lock_key: int  # any fixed number, one a role
    version_table: str = "alembic_version"

    def config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(self.script_location))
        return config

    @property
    def context_options(self) -> dict[str, Any]:
        """The options `context.configure` takes in the role's `env.py`."""
        return {
            "target_metadata": self.metadata,
            "render_as_batch": True,
            "version_table": self.version_table,
            "include_name": self._ours,
        }

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self.config()).get_current_head()

    def current_revision(self, engine: Engine) -> str | None:
        with engine.connect() as conn:
            options = {"version_table": self.version_table}
            return MigrationContext.configure(conn, opts=options).get_current_revision()

    def upgrade_head(self, engine: Engine) -> None:
        """Bring the database at `engine` to the newest revision (a no-op when it is there already).

        Safe when several processes start at once on one database: one migrates while the others
        wait, then find it done. On SQLite the transaction takes the write lock at BEGIN (a deferred
        one that reads first and then writes fails at once with "database is locked" instead of
        waiting); on PostgreSQL an advisory lock held to the end of the transaction does the same."""
        config = self.config()
        writer = (
            engine.execution_options(sqlite_immediate=True) if engine.dialect.name == "sqlite" else engine
        )
        with writer.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": self.lock_key})
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def schema_differences(self, engine: Engine) -> list[Any]:
        """What differs between the migrated database and the models (empty when they agree); only
        this role's tables are compared."""
        with engine.connect() as conn:
            opts = {"compare_type": True, "version_table": self.version_table, "include_name": self._ours}
            context = MigrationContext.configure(conn, opts=opts)
            return list(compare_metadata(context, self.metadata))

    def _ours(self, name: str | None, type_: str, parent_names: Any) -> bool:
        return type_ != "table" or name in self.metadata.tables


def run_alembic_env(context: Any, migrations: Migrations, url_variables: tuple[str, ...]) -> None:
    """The body of a role's `migrations/env.py`: migrate the connection `Migrations.upgrade_head`
    passes (`config.attributes["connection"]`), else, by hand (`alembic -c <role>/alembic.ini upgrade
    head`), the database named by the first of `url_variables` that is set."""
    config = context.config

    def url() -> str:
        configured = config.get_main_option("sqlalchemy.url")
        if configured:
            return str(configured)
        raw = next((os.environ[v] for v in url_variables if os.environ.get(v)), None)
        if raw is None:
            raise SystemExit(f"set {' or '.join(url_variables)} to the database to migrate")
        return normalize_database_url(raw).render_as_string(hide_password=False)

    def run(connection: Connection) -> None:
        context.configure(connection=connection, **migrations.context_options)
        with context.begin_transaction():
            context.run_migrations()

    if context.is_offline_mode():
        context.configure(url=url(), literal_binds=True, **migrations.context_options)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = create_engine(url())
    try:
        with engine.begin() as conn:
            run(conn)
    finally:
        engine.dispose()
