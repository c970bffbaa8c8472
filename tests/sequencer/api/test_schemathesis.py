"""Schemathesis against the sequencer's `/openapi.json`, in process: every route, generated requests
valid and invalid, the checks of `tests.support.apifuzz`, and a refused submission stores nothing.

The app runs on a node with funded accounts and sealed batches (so batch, block and step routes find
data, and paging goes past it); its blocks are built by the test (`run_builder=False`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from protocol.codec import decode_tx, encode_tx
from protocol.txs import Transfer
from sequencer.api.schemas import RAW_EXAMPLE, TRANSFER_EXAMPLE
from sequencer.api.txjson import tx_from_json
from sequencer.builder import BlockBuilder
from sequencer.main import create_app
from sequencer.mempool import Submission
from sequencer.node import Sequencer
from tests.sequencer.helpers import FakeClock, fund, make_settings, sqlite_url
from tests.support.apifuzz import (
    CI_EXAMPLES,
    LONG_EXAMPLES,
    Case,
    Tally,
    check_integer_bounds,
    run_case,
    stop_apps,
)
from tests.support.fees import FEE_PRICE
from tests.support.wallets import Wallet

TALLY = Tally()


@pytest.fixture(scope="module")
def sequencer_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    node = Sequencer(make_settings(sqlite_url(tmp)), clock=FakeClock())
    node.start()
    builder = BlockBuilder(node)
    wallets = [Wallet.from_seed(i) for i in range(3)]
    fund(node, builder, wallets)
    a, b = wallets[:2]
    node.submit(
        [Submission(a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE))) for _ in range(3)]
    )
    assert builder.tick() is not None
    builder.seal()
    app = create_app(node.settings, sequencer=node, run_builder=False)
    yield app
    stop_apps()  # the app's lifespan, started by schemathesis's first call, closes the node
    print(f"\nschemathesis on the sequencer: {TALLY}")  # the figures of docs/results (pytest -s)


# The schema of an app built the same way (building one starts nothing: its lifespan does); each case
# is sent to the fixture's app. (`schemathesis.pytest.from_fixture` does not run under pytest 9.)
schema = schemathesis.openapi.from_dict(
    create_app(make_settings("sqlite:///never-opened.db"), run_builder=False).openapi()
)


def _check(case: Case, app: FastAPI) -> None:
    node: Sequencer | None = getattr(app.state, "sequencer", None)
    before = None if node is None else (node.store.max_seq(), len(node.mempool))
    response = run_case(case, app, TALLY)
    if case.method == "POST" and response.status_code >= 300 and node is not None:
        assert (node.store.max_seq(), len(node.mempool)) == before, "a refused submission stored something"


@schema.parametrize()
@settings(max_examples=CI_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_sequencer_api(case: Case, sequencer_app: FastAPI) -> None:
    _check(case, sequencer_app)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=LONG_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_sequencer_api_long(case: Case, sequencer_app: FastAPI) -> None:
    _check(case, sequencer_app)


def test_every_integer_parameter_is_bounded_and_holds_at_its_bounds(sequencer_app: FastAPI) -> None:
    """No id or page parameter reaches the database beyond what it holds (`?batch=2**64` of a proof
    was a 5xx): each declares its bounds and holds at them."""
    params = check_integer_bounds(sequencer_app)
    assert {(p.path, p.name) for p in params} >= {
        ("/v1/state/proof/{key}", "batch"),
        ("/v1/batches/{batch_id}/steps", "offset"),
        ("/v1/withdrawals/{withdrawal_id}/proof", "batch"),
        ("/v1/tasks/{task_id}", "task_id"),
    }


def test_the_schema_examples_are_well_formed_txs() -> None:
    """The examples schemathesis and the /docs page send are txs of today's codec (one once lacked a
    field the codec gained, and was refused as `decode_error`)."""
    raw = bytes.fromhex(str(RAW_EXAMPLE["raw"])[2:])
    assert encode_tx(decode_tx(raw)) == raw
    message = TRANSFER_EXAMPLE["message"]
    assert isinstance(message, dict)
    assert tx_from_json("Transfer", message, str(TRANSFER_EXAMPLE["signature"])) == raw
