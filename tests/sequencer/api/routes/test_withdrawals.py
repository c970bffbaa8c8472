"""GET /v1/withdrawals/{id}/proof: what a user claims with on L1, against a final root."""

from __future__ import annotations

from fastapi.testclient import TestClient

from protocol import keys
from protocol.smt import SmtProof, verify_proof
from protocol.txs import Withdraw
from sequencer.db.models import BatchState
from tests.sequencer.api.conftest import Chain
from tests.sequencer.helpers import hexed, raw_body
from tests.support.fees import FEE_PRICE
from tests.support.wallets import ETH


def test_withdrawal_proof_once_final(client: TestClient, chain: Chain) -> None:
    a = chain.wallets[0]
    l1 = b"\x99" * 20
    client.post("/v1/txs", json=raw_body(a.sign(lambda n: Withdraw(n, l1, 2 * ETH, max_fee_price=FEE_PRICE))))
    chain.tick()
    r = client.get("/v1/withdrawals/0/proof")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_finalized")  # no final batch
    chain.node.set_batch_status(0, BatchState.FINAL)  # the funding batch: before the withdrawal
    r = client.get("/v1/withdrawals/0/proof")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_finalized")
    assert r.json()["error"]["batch"] == 0
    chain.builder.seal()
    chain.node.set_batch_status(1, BatchState.FINAL)
    proof = client.get("/v1/withdrawals/0/proof").json()
    assert (proof["id"], proof["amount"], proof["batch"], proof["batch_status"]) == (
        0,
        str(2 * ETH),
        1,
        "final",
    )
    assert proof["recipient"].lower() == hexed(l1)
    key = keys.withdrawal_key(0)
    assert proof["key"] == hexed(key)
    root = bytes.fromhex(proof["root"][2:])
    assert root == chain.node.store.batch(1).post_root  # type: ignore[union-attr]
    assert verify_proof(
        root, key, bytes.fromhex(proof["value"][2:]), SmtProof.decode(bytes.fromhex(proof["proof"][2:]))
    )
    r = client.get("/v1/withdrawals/1/proof")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
