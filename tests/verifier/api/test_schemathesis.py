"""Schemathesis against the verifier's `/openapi.json`, in process: every route, generated requests
valid and invalid, with the checks of `tests.support.apifuzz`, on a verifier that judged a batch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from tests.l1.game import make_game
from tests.support.apifuzz import (
    CI_EXAMPLES,
    LONG_EXAMPLES,
    Case,
    Tally,
    check_integer_bounds,
    run_case,
    stop_apps,
)
from tests.support.wallets import ETH
from tests.verifier.support import L2, make_node
from verifier.api import create_app
from verifier.core.config import Settings
from verifier.node import VerifierNode

TALLY = Tally()


@pytest.fixture(scope="module")
def verifier_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    game = make_game()
    node: VerifierNode = make_node(game, tmp_path_factory.mktemp("schemathesis"))
    l2 = L2.funded(game)
    game.post_result(l2.transfers(ETH))
    node.tick()
    yield create_app(node=node, run_loop=False)
    stop_apps()
    node.close()
    print(f"\nschemathesis on the verifier: {TALLY}")  # the figures of docs/results (pytest -s)


# The schema of an app built the same way (building one starts nothing); each case goes to the
# fixture's app. (`schemathesis.pytest.from_fixture` does not run under pytest 9.)
schema = schemathesis.openapi.from_dict(create_app(Settings.model_construct(), run_loop=False).openapi())


@schema.parametrize()
@settings(max_examples=CI_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_verifier_api(case: Case, verifier_app: FastAPI) -> None:
    run_case(case, verifier_app, TALLY)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=LONG_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_verifier_api_long(case: Case, verifier_app: FastAPI) -> None:
    run_case(case, verifier_app, TALLY)


def test_every_integer_parameter_is_bounded_and_holds_at_its_bounds(verifier_app: FastAPI) -> None:
    params = check_integer_bounds(verifier_app)
    assert {(p.path, p.name) for p in params} >= {("/v1/batches", "after"), ("/v1/disputes", "limit")}
