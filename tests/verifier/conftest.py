"""Fixtures of the verifier tests: a fraud-game chain (`tests.l1.game`), a verifier on it, and a
database URL for the storage tests: SQLite, and PostgreSQL in a fresh schema
(MLROLLUP_TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test). An
unreachable server skips those cases, except under CI=true where it fails them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.l1.game import Game, make_game
from tests.verifier.support import make_node, sqlite_url
from verifier.node import VerifierNode

POSTGRES_URL = os.environ.get(
    "MLROLLUP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_schema_url() -> Iterator[str]:
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
    schema = f"v_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def game() -> Game:
    return make_game()


@pytest.fixture
def node(game: Game, tmp_path: Path) -> Iterator[VerifierNode]:
    """A verifier of `game` whose challenger is account 2."""
    n = make_node(game, tmp_path)
    yield n
    n.close()
