"""Databases for the storage tests: SQLite files, PostgreSQL in a fresh schema a test, and the checks
every role's migrations must pass.

The server is MLROLLUP_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
An unreachable server skips those cases, except under CI=true where it fails them: CI must run the
storage tests against it.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.db import Database, Migrations

POSTGRES_URL = os.environ.get(
    "MLROLLUP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]  # params of a `db_url`


def sqlite_url(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / name}"


def postgres_schema_url(prefix: str) -> Iterator[str]:
    """A URL of the test server whose search path is a new schema, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(dsn, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL at {url.render_as_string()} is unreachable ({exc.__class__.__name__})"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message}; CI must run the storage tests against it")
        pytest.skip(f"{message}: start it or set MLROLLUP_TEST_POSTGRES_URL")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


def database_url(backend: str, tmp_path: Path, name: str, prefix: str) -> Iterator[str]:
    """The body of a `db_url` fixture parametrized over `BACKENDS`."""
    if backend == "sqlite":
        yield sqlite_url(tmp_path, name)
    else:
        yield from postgres_schema_url(prefix)


def check_migrations(db_url: str, migrations: Migrations, head: str) -> None:
    """A role's migrations on the fresh database `db_url`: they reach `head`, a second time as a
    no-op, and give exactly the schema of the role's models."""
    db = Database.connect(db_url)
    try:
        assert migrations.current_revision(db.engine) is None
        migrations.upgrade_head(db.engine)
        migrations.upgrade_head(db.engine)  # a no-op the second time
        assert migrations.current_revision(db.engine) == migrations.head_revision() == head
        assert migrations.schema_differences(db.engine) == []
    finally:
        db.dispose()


def check_migrating_together(
    db_url: str, migrations: Migrations, migrate: Callable[[Database], None]
) -> None:
    """Four processes of a role starting together on the fresh database `db_url` (`migrate`, what a
    process does at start) all come up: one migrates, the others wait and find the schema there."""
    databases = [Database.connect(db_url) for _ in range(4)]
    start = threading.Barrier(len(databases))
    errors: list[BaseException] = []

    def run(db: Database) -> None:
        start.wait()
        try:
            migrate(db)
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(db,)) for db in databases]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert migrations.current_revision(databases[0].engine) == migrations.head_revision()
    finally:
        for db in databases:
            db.dispose()
