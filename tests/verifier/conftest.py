"""Fixtures of the verifier tests: a fraud-game chain (`tests.l1.game`), a verifier on it, and a
database URL for the storage tests on SQLite and PostgreSQL (`tests.support.databases`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.l1.game import Game, make_game
from tests.support.databases import BACKENDS, database_url
from tests.verifier.support import make_node
from verifier.node import VerifierNode


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_url(request.param, tmp_path, "verifier.db", "v")


@pytest.fixture
def game() -> Game:
    return make_game()


@pytest.fixture
def node(game: Game, tmp_path: Path) -> Iterator[VerifierNode]:
    """A verifier of `game` whose challenger is account 2."""
    n = make_node(game, tmp_path)
    yield n
    n.close()
