"""Fixtures of the sequencer tests. Storage tests take `db_url`: SQLite, and PostgreSQL in a fresh
schema (`tests.support.databases`)."""

from __future__ import annotations

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
from tests.sequencer.helpers import FakeClock, make_settings, sqlite_url
from tests.support.databases import BACKENDS, database_url
from tests.support.wallets import Wallet


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_url(request.param, tmp_path, "sequencer.db", "t")


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
