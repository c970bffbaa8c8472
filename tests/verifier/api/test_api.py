"""The REST API over a verifier of the in-process chain, whose rounds the test runs (`tick`)."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi import FastAPI

with warnings.catch_warnings():  # starlette asks for httpx2, which the project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from protocol.hashing import keccak
from tests.l1.game import BOND, CHALLENGER_BOND, SHARE_BPS, Game
from tests.support.wallets import ETH
from tests.verifier.support import L2, make_node, wrong_step
from verifier.api import create_app
from verifier.api.app import MAX_BODY_BYTES
from verifier.node import VerifierNode


@pytest.fixture
def app(node: VerifierNode) -> FastAPI:
    return create_app(node=node, run_loop=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def play_a_dispute(game: Game, node: VerifierNode) -> None:
    """Batch 0 honest, batch 1 wrong at a step and proven, batch 2 honest again."""
    l2 = L2.funded(game)
    game.post_result(l2.transfers(ETH))
    node.tick()
    good = l2.state
    wrong = l2.transfers(1, 2)
    leaves, post = wrong_step(wrong, 0)
    game.post_result(wrong, leaves=leaves, post_root=post)
    node.tick()
    game.reveal(1, leaves)
    node.tick()
    l2.rebase(good)
    game.post_result(l2.transfers(1, 2), sender=game.other_proposer)
    node.tick()


def test_health_and_readiness(client: TestClient, node: VerifierNode) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["error"] == {
        "code": "not_ready",
        "message": "not connected to L1 yet",
    }
    node.tick()
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    node.status = replace(node.status, failures=2, last_error="ConnectionError: refused")
    assert (
        "the last 2 rounds failed: ConnectionError: refused"
        in client.get("/readyz").json()["error"]["message"]
    )
    node.status = replace(node.status, halted="no contract at the Rollup address")
    assert "the verifier stopped: no contract" in client.get("/readyz").json()["error"]["message"]


def test_status_batches_disputes_and_metrics_after_a_dispute(
    client: TestClient, game: Game, node: VerifierNode
) -> None:
    play_a_dispute(game, node)
    s = client.get("/v1/status").json()
    payout = CHALLENGER_BOND + BOND * SHARE_BPS // 10_000
    assert s["rollup"] == game.deployment.rollup and s["chain_id"] == game.deployment.chain_id
    assert s["caught_up"] and s["batch_count"] == 2 and s["finalized_count"] == 0
    assert s["latest_checked"]["index"] == 1 and s["latest_checked"]["verdict"] == "valid"
    assert s["latest_checked"]["post_root"] == s["latest_checked"]["honest_post_root"]
    assert s["disagreements"] == 1 and s["verdicts"] == {"valid": 2, "wrong_roots": 1}
    assert s["disputes"] == {"won": 1}
    assert s["challenger"] == game.challenger.address and s["challenger_bond_wei"] == str(CHALLENGER_BOND)
    assert s["payouts"] == {"withdrawn_wei": str(payout), "pending_wei": "0"}
    assert s["gas_spent"]["challenge"] > 0 and s["gas_spent"]["proof"] > 0 and s["gas_spent"]["withdraw"] > 0
    assert s["l1_block"] == int(game.w3.eth.block_number) and s["last_error"] is None

    page = client.get("/v1/batches", params={"limit": 2}).json()
    assert [(b["index"], b["verdict"], b["status"]) for b in page["batches"]] == [
        (0, "valid", "live"),
        (1, "wrong_roots", "deleted"),
    ]
    rest = client.get("/v1/batches", params={"after": page["next_after"]}).json()
    assert [(b["index"], b["verdict"]) for b in rest["batches"]] == [(1, "valid")] and rest[
        "next_after"
    ] is None
    wrong = client.get("/v1/batches", params={"verdict": "wrong_roots"}).json()["batches"]
    assert len(wrong) == 1 and wrong[0]["post_root"] == wrong[0]["honest_post_root"]  # a wrong step
    assert wrong[0]["trace_root"] != wrong[0]["honest_trace_root"]

    (d,) = client.get("/v1/disputes").json()["disputes"]
    assert (d["batch_index"], d["outcome"], d["resolution"], d["ours"]) == (1, "won", "fraud_proven", True)
    assert d["payout_wei"] == str(payout) and d["slashed_wei"] == str(BOND)
    txs = d["txs"]
    assert txs["proof"]["hash"] == txs["resolved"]["hash"] and txs["timeout"] is None
    assert txs["challenge"]["gas_used"] > 0 and txs["withdraw"]["gas_used"] > 0
    assert client.get("/v1/disputes", params={"outcome": "lost"}).json() == {
        "disputes": [],
        "next_after": None,
    }

    text = client.get("/metrics").text
    for line in (
        "mlrollup_verifier_latest_checked_batch 1.0",
        "mlrollup_verifier_disagreements_total 1.0",
        'mlrollup_verifier_challenges_total{outcome="won"} 1.0',
        f'mlrollup_verifier_l1_gas_spent_total{{tx="proof"}} {float(d["txs"]["proof"]["gas_used"])}',
        'mlrollup_verifier_batches_judged_total{verdict="valid"} 2.0',
    ):
        assert line in text, line
    assert "mlrollup_verifier_payouts_withdrawn_wei_total 5e+17" in text


def test_errors_have_one_shape(client: TestClient) -> None:
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.get("/v1/batches", params={"limit": 0})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    assert "limit" in r.json()["error"]["message"]
    r = client.get("/v1/disputes", params={"outcome": "maybe"})
    assert r.status_code == 422
    assert client.post("/v1/status").status_code == 405


def test_over_deep_and_over_large_bodies_are_refused_before_parsing(client: TestClient) -> None:
    json_type = {"content-type": "application/json"}
    r = client.post("/v1/status", content=b"[" * 100_000, headers=json_type)  # also over the size limit
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    r = client.post("/v1/status", content=b"[" * 1_000, headers=json_type)
    assert r.status_code == 400 and r.json()["error"]["code"] == "json_too_deep"
    r = client.post("/v1/status", content=b" " * (MAX_BODY_BYTES + 1), headers=json_type)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert client.get("/healthz").status_code == 200  # still serving


def test_watch_only_status(game: Game, tmp_path: Path) -> None:
    node = make_node(game, tmp_path, watch_only=True)
    L2.funded(game)
    game.post_trace([keccak(b"x")])
    with TestClient(create_app(node=node, run_loop=False)) as client:
        node.tick()
        s = client.get("/v1/status").json()
        assert s["challenger"] is None and s["challenger_bond_wei"] is None
        assert s["payouts"]["pending_wei"] is None and s["disagreements"] == 1
    node.close()


def test_the_loop_runs_with_the_app(game: Game, tmp_path: Path) -> None:
    node = make_node(game, tmp_path)
    with TestClient(create_app(node=node)) as client:
        deadline = time.monotonic() + 30
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert client.get("/readyz").status_code == 200 and node.alive
    assert not node.alive  # stopped with the app
    node.close()
