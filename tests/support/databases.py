"""Databases for the storage tests: SQLite files, and PostgreSQL in a fresh schema a test.

The server is MLROLLUP_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
An unreachable server skips those cases, except under CI=true where it fails them: CI must run the
storage tests against it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

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
