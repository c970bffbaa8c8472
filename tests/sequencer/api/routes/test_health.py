"""Health, readiness, metrics, info, the OpenAPI document, and the catch-all 500."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from protocol.fees import FeeSchedule
from protocol.txs import Transfer
from sequencer.core.errors import ERROR_CODES
from sequencer.main import create_app
from tests.sequencer.api.conftest import Chain
from tests.sequencer.helpers import FakeClock, FakeL1, make_settings, raw_body, sqlite_url
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT
from tests.support.wallets import Wallet


def test_health_and_readiness(client: TestClient, chain: Chain) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_readiness_with_the_builder_thread(tmp_path: Path) -> None:
    app = create_app(make_settings(sqlite_url(tmp_path)), clock=FakeClock())
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        app.state.builder.stop()
        r = client.get("/readyz")
        assert r.status_code == 503 and "not running" in r.json()["error"]["message"]


def wait_for(client: TestClient, ready: bool, timeout: float = 10.0) -> httpx.Response:
    """`/readyz` once it answers ready (200) or not (503)."""
    deadline = time.monotonic() + timeout
    while True:
        r: httpx.Response = client.get("/readyz")
        if (r.status_code == 200) == ready or time.monotonic() > deadline:
            return r
        time.sleep(0.02)


def test_readiness_and_submissions_while_catching_up_with_l1(tmp_path: Path) -> None:
    # a free deployment (fee price 0): the unfunded wallet's tx is taken once L1 is followed
    l1 = FakeL1(down=True, fees=FeeSchedule(0, FEE_RECIPIENT))
    settings = make_settings(sqlite_url(tmp_path), follow_poll_s=0.05, fee_price=0)
    app = create_app(settings, clock=FakeClock(), l1_batches=lambda: l1)
    wallet = Wallet.from_seed(40)
    with TestClient(app) as client:
        r = wait_for(client, ready=False)
        error = r.json()["error"]
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert error["code"] == "catching_up" and "L1 unreachable" in error["catching_up"]["reason"]
        assert error["l1"]["synced"] is False and error["l1"]["failures"] >= 1
        raw = wallet.sign(lambda n: Transfer(n, wallet.address, 0, max_fee_price=FEE_PRICE))
        refused = client.post("/v1/txs", json=raw_body(raw))
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        body = refused.json()["error"]
        assert body["code"] == "catching_up" and body["catching_up"]["retry_after_s"] == 1
        assert client.post("/v1/txs/batch", json={"txs": [raw_body(raw)]}).status_code == 503
        assert client.get(f"/v1/accounts/0x{wallet.address.hex()}").status_code == 200  # reads go on

        l1.down = False
        r = wait_for(client, ready=True)
        assert r.status_code == 200, r.text
        assert r.json()["catching_up"] is None and r.json()["l1"]["synced"] is True
        assert client.post("/v1/txs", json=raw_body(raw)).status_code == 202


def test_metrics(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    client.post(
        "/v1/txs", json=raw_body(a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE)))
    )
    client.post("/v1/txs", json={"raw": "0x01"})
    client.post("/v1/txs", json={"raw": "0xzz"})  # refused before the dry-run: counted too
    client.post("/v1/txs/batch", json={"txs": [{"raw": "0x01"}, {"raw": "0x02"}]})
    chain.tick()
    text = client.get("/metrics").text
    for line in (
        "mlrollup_txs_accepted_total 1.0",
        'mlrollup_txs_rejected_total{reason="decode_error"} 3.0',
        'mlrollup_txs_rejected_total{reason="invalid_hex"} 1.0',
        "mlrollup_block_height 2.0",
        "mlrollup_mempool_size 0.0",
        'mlrollup_batch_height{status="sealed"} 0.0',
        'mlrollup_steps_total{kind="tx"} 1.0',
        'mlrollup_steps_total{kind="deposit"} 4.0',
        "mlrollup_l1_gas_spent_total 0.0",
    ):
        assert line in text, line
    assert 'mlrollup_step_execution_seconds_total{kind="tx"}' in text


def test_info(client: TestClient, chain: Chain) -> None:
    info = client.get("/v1/info").json()
    assert info["domain"]["chainId"] == 31337 and info["name"] == "mlrollup"
    assert info["limits"]["max_tx_bytes"] == 120_000
    served = ("max_pending_steps_per_sender", "max_pending_steps", "max_long_polls", "limit_concurrency")
    assert [info["limits"][k] for k in served] == [8_004, 100_000, 1_000, 2_048]  # the defaults


def test_openapi_documents_every_route_and_error(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {
        "/v1/txs",
        "/v1/txs/batch",
        "/v1/txs/{tx_hash}",
        "/v1/accounts/{address}",
        "/v1/tasks/{task_id}",
        "/v1/models/{model_id}",
        "/v1/blocks/latest",
        "/v1/blocks/{number}",
        "/v1/batches/{batch_id}",
        "/v1/batches/{batch_id}/steps",
        "/v1/state/root",
        "/v1/state/proof/{key}",
        "/v1/withdrawals/{withdrawal_id}/proof",
        "/healthz",
        "/readyz",
        "/metrics",
    } <= set(spec["paths"])
    assert all(f"`{code}`" in spec["info"]["description"] for code in ERROR_CODES)
    assert "all or nothing" in spec["paths"]["/v1/txs/batch"]["post"]["description"].lower()
    examples = spec["components"]["schemas"]["TxSubmission"]["examples"]
    assert any("raw" in e for e in examples) and any("message" in e for e in examples)


def test_unknown_routes_and_methods(client: TestClient) -> None:
    r = client.get("/v2/nothing")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = client.delete("/v1/txs")
    assert (r.status_code, r.json()["error"]["code"]) == (405, "method_not_allowed")


def test_a_bug_is_a_json_500(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        monkeypatch.setattr(app.state.sequencer.store, "last_block", lambda: 1 / 0)
        r = client.get("/v1/blocks/latest")
        assert r.status_code == 500 and r.json() == {
            "error": {"code": "internal_error", "message": "an unexpected error; it was logged"}
        }
