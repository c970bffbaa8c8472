"""Fixtures of the sequencer tests. Storage tests take `db_url`: SQLite, and PostgreSQL in a fresh
schema (MLROLLUP_TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test).
An unreachable server skips those cases, except under CI=true where it fails them."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

with warnings.catch_warnings():  # starlette asks for httpx2, which the project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from sequencer.builder import BlockBuilder
from sequencer.main import create_app
from sequencer.node import Sequencer
from tests.protocol.harness import Wallet
from tests.sequencer.helpers import FakeClock, make_settings, sqlite_url

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
    schema = f"t_{uuid.uuid4().hex[:12]}"
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
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def wallets() -> list[Wallet]:
    return [Wallet.from_seed(i) for i in range(6)]


@pytest.fixture
def node(tmp_path: Path, clock: FakeClock) -> Iterator[Sequencer]:
    seq = Sequencer(make_settings(sqlite_url(tmp_path)), clock=clock)
    seq.start()
    yield seq
    seq.close()


@pytest.fixture
def builder(node: Sequencer) -> BlockBuilder:
    return BlockBuilder(node)


@pytest.fixture
def app(tmp_path: Path, clock: FakeClock) -> FastAPI:
    return create_app(make_settings(sqlite_url(tmp_path)), clock=clock, run_builder=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c
