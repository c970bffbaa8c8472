"""GET /v1/state/root and /v1/state/proof/{key}: proofs that verify against the roots."""

from __future__ import annotations

from fastapi.testclient import TestClient

from protocol import keys
from protocol.hashing import ZERO32
from protocol.smt import SmtProof, verify_proof
from protocol.txs import Transfer
from sequencer.db.models import BatchState
from tests.sequencer.api.conftest import Chain
from tests.sequencer.helpers import hexed, raw_body
from tests.support.fees import FEE_PRICE


def unhex(text: str) -> bytes:
    return bytes.fromhex(text[2:])


def test_roots(client: TestClient, chain: Chain) -> None:
    roots = client.get("/v1/state/root").json()
    head = chain.node.head.root
    assert roots["current"] == {"root": hexed(head), "block": 1, "batch": None}
    assert roots["sealed"] == {"root": hexed(head), "block": 1, "batch": 0}
    assert roots["finalized"] == {"root": hexed(ZERO32), "block": 0, "batch": None}
    chain.node.set_batch_status(0, BatchState.FINAL)
    assert client.get("/v1/state/root").json()["finalized"] == {"root": hexed(head), "block": 1, "batch": 0}


def test_proofs_verify(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    key = keys.account_key(a.address)
    proof = client.get(f"/v1/state/proof/{hexed(key)}").json()
    assert proof["terminal"] == "leaf" and proof["value"] is not None
    assert verify_proof(
        unhex(proof["root"]), key, unhex(proof["value"]), SmtProof.decode(unhex(proof["proof"]))
    )
    absent = keys.account_key(b"\x77" * 20)
    proof = client.get(f"/v1/state/proof/{hexed(absent)}").json()
    assert proof["value"] is None and proof["terminal"] in ("empty", "other")
    assert verify_proof(unhex(proof["root"]), absent, None, SmtProof.decode(unhex(proof["proof"])))
    # against a past batch: the value before a later transfer
    before = client.get(f"/v1/state/proof/{hexed(key)}").json()
    client.post(
        "/v1/txs", json=raw_body(a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE)))
    )
    chain.tick()
    old = client.get(f"/v1/state/proof/{hexed(key)}", params={"batch": 0}).json()
    assert (old["value"], old["root"], old["batch"]) == (before["value"], before["root"], 0)
    assert client.get(f"/v1/state/proof/{hexed(key)}").json()["value"] != before["value"]
    r = client.get(f"/v1/state/proof/{hexed(key)}", params={"batch": 1})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_finalized")  # still open
    r = client.get("/v1/state/proof/0x12")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_hex")
    r = client.get(f"/v1/state/proof/{hexed(key)}", params={"batch": 5})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
