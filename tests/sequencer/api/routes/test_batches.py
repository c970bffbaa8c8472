"""GET /v1/batches/{id} and /v1/batches/{id}/steps: roots, L1 transaction, the trace."""

from __future__ import annotations

from fastapi.testclient import TestClient

from protocol.codec import decode_batch
from protocol.hashing import keccak, merkle_root
from protocol.transition import step_hash
from protocol.txs import Transfer
from sequencer.l1 import PostedBatch
from tests.sequencer.api.conftest import Chain
from tests.sequencer.helpers import hexed, raw_body
from tests.support.fees import FEE_PRICE


def test_batch_lifecycle_and_steps(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    for _ in range(2):
        client.post(
            "/v1/txs", json=raw_body(a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE)))
        )
        chain.tick()
    open_batch = client.get("/v1/batches/1").json()
    assert (open_batch["status"], open_batch["trace_root"], open_batch["tx_count"]) == ("open", None, 2)
    chain.builder.seal()
    batch = client.get("/v1/batches/1", params={"data": True}).json()
    assert batch["status"] == "sealed" and batch["l1"] is None
    header, txs = decode_batch(bytes.fromhex(batch["data"][2:]))
    assert header.timestamp == batch["timestamp"] and len(txs) == 2
    steps = client.get("/v1/batches/1/steps").json()
    assert steps["total"] == 2 and [s["cursor"] for s in steps["steps"]] == [1, 2]
    assert [s["block"] for s in steps["steps"]] == [2, 3]
    for s in steps["steps"]:
        want = step_hash(bytes.fromhex(s["state_root"][2:]), s["cursor"], None)
        assert s["hash"] == hexed(want) and s["kind"] == "tx"
    assert steps["trace_root"] == hexed(merkle_root([bytes.fromhex(s["hash"][2:]) for s in steps["steps"]]))
    assert steps["steps"][-1]["state_root"] == batch["post_root"]
    page = client.get("/v1/batches/1/steps", params={"offset": 1, "limit": 1}).json()
    assert [s["index"] for s in page["steps"]] == [1]
    chain.node.record_posted(PostedBatch(1, keccak(b"l1 tx"), 42, 250_000))
    posted = client.get("/v1/batches/1").json()
    assert posted["status"] == "posted" and posted["data"] is None
    assert posted["l1"]["tx_hash"] == hexed(keccak(b"l1 tx")) and posted["l1"]["gas_used"] == 250_000
    r = client.get("/v1/batches/9")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = client.get("/v1/batches/9/steps")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = client.get("/v1/batches/1/steps", params={"limit": 0})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request")


def test_batch_list_pages_and_filters(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    for _ in range(3):
        client.post(
            "/v1/txs", json=raw_body(a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE)))
        )
        chain.tick()
        chain.builder.seal()
    chain.node.record_posted(PostedBatch(1, keccak(b"l1 tx"), 42, 250_000))
    everything = client.get("/v1/batches").json()
    assert [x["id"] for x in everything["batches"]] == [0, 1, 2, 3] and everything["next_after"] is None
    page = client.get("/v1/batches", params={"limit": 2}).json()
    assert [x["id"] for x in page["batches"]] == [0, 1] and page["next_after"] == 1
    page = client.get("/v1/batches", params={"limit": 2, "after": page["next_after"]}).json()
    assert [x["id"] for x in page["batches"]] == [2, 3] and page["next_after"] is None
    posted = client.get("/v1/batches", params={"status": "posted"}).json()["batches"]
    assert [(x["id"], x["l1"]["gas_used"]) for x in posted] == [(1, 250_000)]
    several = client.get("/v1/batches?status=posted&status=sealed").json()["batches"]
    assert [x["id"] for x in several] == [0, 1, 2, 3]
    r = client.get("/v1/batches", params={"status": "lost"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request")
    r = client.get("/v1/batches", params={"limit": 101})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request")
