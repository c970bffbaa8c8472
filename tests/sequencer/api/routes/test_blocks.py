"""GET /v1/blocks/{n} and /v1/blocks/latest."""

from __future__ import annotations

from fastapi.testclient import TestClient

from protocol.hashing import ZERO32, keccak
from protocol.txs import Transfer
from tests.sequencer.api.conftest import Chain
from tests.sequencer.helpers import hexed, raw_body
from tests.support.fees import FEE_PRICE


def test_blocks(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    first = client.get("/v1/blocks/1").json()
    assert (first["pre_root"], first["deposits"], first["tx_count"], first["batch"]) == (
        hexed(ZERO32),
        {"start": 0, "end": 4},
        0,
        0,
    )
    raws = [a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE)) for _ in range(3)]
    client.post("/v1/txs/batch", json={"txs": [raw_body(r) for r in raws]})
    chain.tick()
    latest = client.get("/v1/blocks/latest").json()
    assert latest == client.get("/v1/blocks/2").json()
    assert latest["txs"] == [hexed(keccak(r)) for r in raws]
    assert (
        latest["pre_root"] == first["post_root"]
        and latest["post_root"] == client.get("/v1/state/root").json()["current"]["root"]
    )
    assert (latest["step_offset"], latest["step_count"], latest["batch"]) == (0, 3, 1)
    r = client.get("/v1/blocks/3")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")


def test_no_block_yet(client: TestClient) -> None:
    r = client.get("/v1/blocks/latest")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
