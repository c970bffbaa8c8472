"""GET /v1/models/{id}: the paper's shared linear regression trained through the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from protocol.paper import PAPER_X, PAPER_Y
from protocol.signing import to_checksum_address
from protocol.txs import Train
from tests.sequencer.api.conftest import Chain
from tests.sequencer.helpers import raw_body
from tests.support.fees import FEE_PRICE
from tests.support.paper import paper_model_txs


def test_paper_model_through_the_api(client: TestClient, chain: Chain) -> None:
    owner, trainer = chain.wallets[:2]
    txs = [*paper_model_txs(owner), trainer.sign(lambda n: Train(n, 0, 1, max_fee_price=FEE_PRICE))]
    r = client.post("/v1/txs/batch", json={"txs": [raw_body(t) for t in txs]})
    assert r.status_code == 202, r.text
    chain.tick()
    model = client.get("/v1/models/0").json()
    assert model == {
        "id": 0,
        "owner": to_checksum_address(owner.address),
        "n_features": 1,
        "learning_rate": 1000,
        "n_points": 9,
        "epochs_trained": 1,
        "weights": [100262000, 3420000],
        "scale": 10**7,
        "points": None,
        "block": 2,
    }
    points = client.get("/v1/models/0", params={"points": "true"}).json()["points"]
    assert points == [[x, y] for x, y in zip(PAPER_X, PAPER_Y, strict=True)]


def test_unknown_model(client: TestClient, chain: Chain) -> None:
    r = client.get("/v1/models/3")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "unknown_model")
