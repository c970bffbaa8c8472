"""POST /v1/txs, POST /v1/txs/batch, GET /v1/txs/{hash}: both forms, every refusal, nothing stored."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from protocol import params
from protocol.hashing import ZERO32, keccak
from protocol.models import Arch
from protocol.signing import Domain, sign_tx, typed_data
from protocol.tensors import IntTensor
from protocol.txs import (
    AddData,
    CommitModel,
    CreateModel,
    CreateTask,
    FinalizeTask,
    RevealModel,
    RevealTestSet,
    Transfer,
)
from sequencer.core.config import MIN_BODY_BYTES
from sequencer.main import create_app
from tests.sequencer.api.conftest import Chain
from tests.sequencer.helpers import FakeClock, hexed, make_settings, raw_body, sqlite_url, typed_body
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT_ADDRESS, fee_of
from tests.support.paper import paper_create_model
from tests.support.wallets import ETH, Wallet, transfer

OTHER_CHAIN = Domain(1, DOMAIN.verifying_contract)
OTHER_ROLLUP = Domain(DOMAIN.chain_id, b"\x42" * 20)


def refused(
    client: TestClient, chain: Chain, body: Any, status: int, code: str, path: str = "/v1/txs", **kw: Any
) -> dict[str, Any]:
    """POST `body`, expect `status` and error `code`, and check that nothing was stored."""
    before = (chain.node.store.max_seq(), len(chain.node.mempool), chain.node.mempool.state.root)
    response = client.post(path, json=body, **kw) if "content" not in kw else client.post(path, **kw)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    assert (chain.node.store.max_seq(), len(chain.node.mempool), chain.node.mempool.state.root) == before
    return dict(error)


# --- accepted ---------------------------------------------------------------------------------------


def test_raw_tx_accepted_then_executed(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    raw = a.sign(transfer(b.address, 5))
    r = client.post("/v1/txs", json=raw_body(raw, a.address))
    assert r.status_code == 202
    body = r.json()
    assert body == {
        "hash": hexed(keccak(raw)),
        "status": "pending",
        "type": "Transfer",
        "sender": typed_body(a, transfer(b.address), nonce=0)["from"],
        "nonce": 0,
    }
    got = client.get(f"/v1/txs/{body['hash']}").json()
    assert got["status"] == "pending" and got["receipt"] is None and got["raw"] == hexed(raw)
    chain.tick()
    got = client.get(f"/v1/txs/{body['hash']}").json()
    assert got["status"] == "executed"
    assert got["receipt"] == {
        "success": True,
        "reason": "OK",
        "reason_code": 0,
        "detail": "",
        "created_id": None,
        "fee": str(fee_of(raw)),
        "block": 2,
        "index": 0,
        "first_step": 0,
        "last_step": 0,
        "batch": 1,
    }


def test_typed_json_is_the_same_tx_as_raw(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    body = typed_body(a, transfer(b.address, 7 * ETH), nonce=0)
    body["message"]["amount"] = str(7 * ETH)  # big integers as decimal strings
    r = client.post("/v1/txs", json=body)
    assert r.status_code == 202, r.text
    assert r.json()["hash"] == hexed(
        keccak(sign_tx(DOMAIN, Transfer(0, b.address, 7 * ETH, max_fee_price=FEE_PRICE), a.key).encoded)
    )


def test_a_wallet_typed_data_document_is_accepted(client: TestClient, chain: Chain) -> None:
    a = chain.wallets[0]
    tx = paper_create_model(0)
    doc = typed_data(DOMAIN, tx)
    signed = sign_tx(DOMAIN, tx, a.key)
    doc["signature"] = hexed(
        signed.r.to_bytes(32, "big") + signed.s.to_bytes(32, "big") + bytes([signed.v - 27])
    )
    r = client.post("/v1/txs", json=doc)  # primaryType, types, domain, message; v as 0/1
    assert r.status_code == 202, r.text
    assert r.json()["hash"] == hexed(signed.hash)


def test_tensors_as_lists(client: TestClient, chain: Chain) -> None:
    a = chain.wallets[0]
    client.post(
        "/v1/txs",
        json=typed_body(
            a, lambda n: CreateModel(n, 2, 10, IntTensor.vector([0, 0, 0]), max_fee_price=FEE_PRICE)
        ),
    )
    chain.tick()
    xs, ys = IntTensor.matrix([[1, 2], [3, -4]]), IntTensor.vector([5, 6])
    body = typed_body(a, lambda n: AddData(n, 0, xs, ys, max_fee_price=FEE_PRICE))
    expected = sign_tx(DOMAIN, AddData(1, 0, xs, ys, max_fee_price=FEE_PRICE), a.key).hash
    body["message"]["xs"], body["message"]["ys"] = [[1, 2], [3, -4]], [5, 6]
    r = client.post("/v1/txs", json=body)
    assert r.status_code == 202, r.text
    assert r.json()["hash"] == hexed(expected)


def test_list_submission(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    bodies = [raw_body(a.sign(transfer(b.address))) for _ in range(3)] + [
        typed_body(b, transfer(a.address, 2))
    ]
    r = client.post("/v1/txs/batch", json={"txs": bodies})
    assert r.status_code == 202, r.text
    txs = r.json()["txs"]
    assert [(t["nonce"], t["status"]) for t in txs] == [
        (0, "pending"),
        (1, "pending"),
        (2, "pending"),
        (0, "pending"),
    ]
    chain.tick()
    assert all(client.get(f"/v1/txs/{t['hash']}").json()["status"] == "executed" for t in txs)


def test_wait_for_the_receipt(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    tx_hash = client.post("/v1/txs", json=raw_body(a.sign(transfer(b.address)))).json()["hash"]
    timer = threading.Timer(0.2, chain.builder.tick)
    timer.start()
    started = time.monotonic()
    got = client.get(f"/v1/txs/{tx_hash}", params={"wait": 5}).json()
    assert got["status"] == "executed" and time.monotonic() - started < 4
    timer.join()
    pending = client.post("/v1/txs", json=raw_body(a.sign(transfer(b.address)))).json()["hash"]
    assert client.get(f"/v1/txs/{pending}", params={"wait": 0.2}).json()["status"] == "pending"


def test_get_unknown_or_malformed_hash(client: TestClient, chain: Chain) -> None:
    r = client.get(f"/v1/txs/0x{'00' * 32}")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = client.get("/v1/txs/0x1234")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_hex")
    r = client.get(f"/v1/txs/0x{'00' * 32}", params={"wait": 99})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request")


# --- refused: the request itself -------------------------------------------------------------------


def test_malformed_json(client: TestClient, chain: Chain) -> None:
    headers = {"content-type": "application/json"}
    refused(client, chain, None, 400, "malformed_json", content=b'{"raw": 0x01', headers=headers)
    refused(client, chain, None, 400, "malformed_json", content=b"\xff\xfe", headers=headers)
    refused(
        client,
        chain,
        None,
        400,
        "malformed_json",
        content=b"not json",
        headers={"content-type": "text/plain"},
    )
    refused(
        client,
        chain,
        None,
        422,
        "invalid_request",
        content=b'{"raw": "0x"}',
        headers={"content-type": "text/plain"},
    )
    refused(client, chain, [1, 2], 422, "invalid_request")
    refused(client, chain, {"raw": "0x01", "bogus": 1}, 422, "invalid_request")
    refused(client, chain, {}, 422, "invalid_request")
    refused(client, chain, {"raw": 5}, 422, "invalid_request")
    a, b = chain.wallets[:2]
    both = {**typed_body(a, transfer(b.address), nonce=0), "raw": "0x01"}
    refused(client, chain, both, 422, "invalid_request")
    refused(client, chain, {"type": "Transfer", "signature": "0x00"}, 422, "invalid_request")
    two_types = {**typed_body(a, transfer(b.address), nonce=0), "primaryType": "Withdraw"}
    assert "different tx types" in refused(client, chain, two_types, 422, "invalid_request")["message"]


def test_malformed_bytes(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    raw = a.peek(transfer(b.address))
    refused(client, chain, {"raw": "0xzz"}, 400, "invalid_hex")
    refused(client, chain, {"raw": raw.hex()}, 400, "invalid_hex")  # no 0x
    refused(client, chain, raw_body(raw[:-3]), 400, "decode_error")
    refused(client, chain, raw_body(raw + b"\x00"), 400, "decode_error")
    refused(client, chain, raw_body(b"\x63" + raw[1:]), 400, "decode_error")
    refused(client, chain, raw_body(b""), 400, "decode_error")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("type", "Teleport", "invalid_field"),
        ("message.amount", -1, "invalid_field"),
        ("message.amount", 2**128, "invalid_field"),
        ("message.amount", "12abc", "invalid_field"),
        ("message.amount", True, "invalid_field"),
        ("message.to", "0x1234", "invalid_hex"),
        ("message.to", "0x2b5ad5c4795c026514f8317c7a215e218dccd6CF", "bad_checksum"),
        ("message.extra", 1, "invalid_field"),
        ("signature", "0x1234", "invalid_hex"),
    ],
)
def test_malformed_typed_fields(client: TestClient, chain: Chain, field: str, value: Any, code: str) -> None:
    a, b = chain.wallets[:2]
    body = typed_body(a, transfer(b.address), nonce=0)
    if field.startswith("message."):
        body["message"][field.removeprefix("message.")] = value
    else:
        body[field] = value
    error = refused(client, chain, body, 400 if code in ("invalid_hex", "bad_checksum") else 422, code)
    assert field.split(".")[0] in error["message"]


def test_missing_typed_field(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    body = typed_body(a, transfer(b.address), nonce=0)
    del body["message"]["to"]
    assert "message.to: missing" in refused(client, chain, body, 422, "invalid_field")["message"]
    body = typed_body(
        a,
        lambda n: CreateTask(n, 3, 2, 0, 0, 1, 10**10, 10**10 + 1, ZERO32, ZERO32, max_fee_price=FEE_PRICE),
        nonce=0,
    )
    body["message"]["arch"] = 4
    refused(client, chain, body, 422, "invalid_field")


# --- refused: signatures and domains -----------------------------------------------------------------


def test_bad_signature(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    raw = a.peek(transfer(b.address))
    s = int.from_bytes(raw[-33:-1], "big")
    high_s = raw[:-33] + (params.SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - raw[-1]])
    refused(client, chain, raw_body(high_s), 400, "bad_signature")
    zero_r = raw[:-65] + b"\x00" * 32 + raw[-33:]
    refused(client, chain, raw_body(zero_r), 400, "bad_signature")


def test_wrong_chain_and_domain(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    body = typed_body(a, transfer(b.address), nonce=0, domain=OTHER_CHAIN)
    assert "chain id is 31337" in refused(client, chain, body, 400, "wrong_chain")["message"]
    body = typed_body(a, transfer(b.address), nonce=0, domain=OTHER_ROLLUP)
    refused(client, chain, body, 400, "wrong_domain")
    body["domain"]["verifyingContract"] = typed_body(a, transfer(b.address), nonce=0)["domain"][
        "verifyingContract"
    ]
    refused(client, chain, body, 400, "wrong_domain")  # the signature still recovers to a stranger
    other = a.peek(transfer(b.address), domain=OTHER_CHAIN)
    error = refused(client, chain, raw_body(other, a.address), 400, "wrong_domain")
    assert "GET /v1/info" in error["message"]
    # without `from` the protocol decides: the stranger it recovers to has no funds, not even the fee
    refused(client, chain, raw_body(other), 400, "fee_unpaid")


# --- refused: nonces and funds --------------------------------------------------------------------------


def test_replayed_and_gapped_nonces(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    raw = a.sign(transfer(b.address))
    assert client.post("/v1/txs", json=raw_body(raw)).status_code == 202
    error = refused(client, chain, raw_body(raw), 409, "already_known")  # the same tx, pending
    assert error["hash"] == hexed(keccak(raw))
    chain.tick()
    refused(client, chain, raw_body(raw), 409, "already_known")  # the same tx, executed
    error = refused(client, chain, raw_body(a.peek(transfer(b.address, 2), nonce=0)), 400, "nonce_too_low")
    assert error["expected_nonce"] == 1
    error = refused(client, chain, raw_body(a.peek(transfer(b.address), nonce=3)), 400, "nonce_gap")
    assert "next (pending) nonce is 1" in error["message"]


def test_insufficient_balance(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    refused(client, chain, raw_body(a.peek(transfer(b.address, 101 * ETH))), 400, "insufficient_balance")
    assert client.post("/v1/txs", json=raw_body(a.sign(transfer(b.address, 60 * ETH)))).status_code == 202
    # refused against the pending balance (the 60 ETH transfer is not executed yet)
    refused(client, chain, raw_body(a.peek(transfer(b.address, 50 * ETH))), 400, "insufficient_balance")


def test_a_tx_that_cannot_pay_its_fee_is_refused_naming_fee_price_and_balance(
    client: TestClient, chain: Chain
) -> None:
    a, b = chain.wallets[:2]
    low = a.peek(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE - 1))
    error = refused(client, chain, raw_body(low), 400, "fee_price_too_low")
    assert (
        f"max_fee_price {FEE_PRICE - 1}" in error["message"] and f"fee price {FEE_PRICE}" in error["message"]
    )
    poor = Wallet.from_seed(77)  # holds nothing
    unpaid = poor.sign(lambda n: Transfer(n, b.address, 0, max_fee_price=FEE_PRICE), nonce=0)
    error = refused(client, chain, raw_body(unpaid), 400, "fee_unpaid")
    fee = fee_of(unpaid)
    assert f"the fee is {fee} wei" in error["message"] and f"fee price {FEE_PRICE} wei" in error["message"]
    assert "balance 0 wei" in error["message"]
    # what GET /v1/fees and the estimate say is what the tx pays
    schedule = client.get("/v1/fees").json()
    assert (schedule["price"], schedule["recipient"]) == (str(FEE_PRICE), FEE_RECIPIENT_ADDRESS)
    estimate = client.post("/v1/fees/estimate", json={"raw": hexed(unpaid)}).json()
    assert (estimate["fee"], estimate["steps"], estimate["data_bytes"]) == (str(fee), 1, len(unpaid))
    assert client.post("/v1/fees/estimate", json={"raw": "0x01"}).json()["error"]["code"] == "decode_error"
    assert chain.node.store.known_hashes([keccak(unpaid)]) == set()  # an estimate stores nothing


# --- refused: sizes -----------------------------------------------------------------------------------


def test_oversized_payload(tmp_path: Path, clock: FakeClock, wallets: list[Wallet]) -> None:
    # The default limit admits a list of max_list_txs txs of MAX_TX_BYTES (240 MB); this app has the
    # least one allowed, which still admits one tx in any form.
    settings = make_settings(sqlite_url(tmp_path, "small.db"), max_body_bytes=MIN_BODY_BYTES)
    app = create_app(settings, clock=clock, run_builder=False)
    with TestClient(app) as client:
        chain = Chain(app, wallets)
        limit = settings.max_body_bytes
        big = b'{"raw": "0x' + b"00" * limit + b'"}'
        refused(
            client,
            chain,
            None,
            413,
            "payload_too_large",
            content=big,
            headers={"content-type": "application/json"},
        )

        def chunks() -> Any:  # no Content-Length: counted while streaming
            yield b'{"raw": "0x'
            for _ in range(limit // 65536 + 2):
                yield b"00" * 32768
            yield b'"}'

        refused(
            client,
            chain,
            None,
            413,
            "payload_too_large",
            content=chunks(),
            headers={"content-type": "application/json"},
        )
        rejected = chain.node.metrics.txs_rejected.labels("payload_too_large")._value.get()
        assert rejected == 2  # counted with the other refusals


def test_over_deep_json_is_refused_before_parsing(client: TestClient, chain: Chain) -> None:
    depth = chain.node.settings.max_json_depth
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"raw": ' + b"[" * depth + b"]" * depth + b"}"):
        refused(
            client,
            chain,
            None,
            400,
            "json_too_deep",
            content=body,
            headers={"content-type": "application/json"},
        )
    # at the limit the body is parsed, and refused for what it says
    body = b'{"raw": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"
    refused(
        client,
        chain,
        None,
        422,
        "invalid_request",
        content=body,
        headers={"content-type": "application/json"},
    )


def test_oversized_tx_and_tensor(client: TestClient, chain: Chain) -> None:
    a = chain.wallets[0]
    refused(client, chain, raw_body(b"\x05" + b"\x00" * params.MAX_TX_BYTES), 413, "tx_too_large")
    body = typed_body(
        a,
        lambda n: AddData(n, 0, IntTensor.matrix([[1]]), IntTensor.vector([1]), max_fee_price=FEE_PRICE),
        nonce=0,
    )
    body["message"]["xs"] = [[1]] * (params.MAX_TENSOR_ELEMENTS + 1)
    refused(client, chain, body, 413, "tensor_too_large")
    # raw bytes whose tensor header claims too many elements
    head = (
        b"\x09" + b"\x00" * 8 + b"\x00" * 8 + b"\x02" + (40_000).to_bytes(4, "big") + (1).to_bytes(4, "big")
    )
    refused(client, chain, raw_body(head + b"\x01" + b"\x00" * 1000), 413, "tensor_too_large")
    body["message"]["xs"] = "0x02" + (40_000).to_bytes(4, "big").hex() + "0000000101" + "00" * 40_000
    refused(client, chain, body, 413, "tensor_too_large")
    # a test set of more than MAX_TX_BYTES
    one = (IntTensor.matrix([[1]]), IntTensor.vector([0]))
    body = typed_body(
        a, lambda n: RevealTestSet(n, 0, ZERO32, 1, ZERO32, 0, *one, (), max_fee_price=FEE_PRICE), nonce=0
    )
    body["message"]["features"] = [[10**6] * 8] * 4000
    body["message"]["labels"] = [0] * 4000
    refused(client, chain, body, 413, "tx_too_large")


def test_too_many_txs_in_a_list(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    n = chain.node.settings.max_list_txs + 1
    body = {"txs": [raw_body(a.peek(transfer(b.address), nonce=i)) for i in range(n)]}
    refused(client, chain, body, 413, "too_many_txs", path="/v1/txs/batch")
    refused(client, chain, {"txs": []}, 422, "invalid_request", path="/v1/txs/batch")


def test_a_list_with_one_bad_tx_stores_nothing(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    body = {
        "txs": [
            raw_body(a.peek(transfer(b.address), nonce=0)),
            raw_body(a.peek(transfer(b.address, 101 * ETH), nonce=1)),
            {"raw": "0xzz"},
        ]
    }
    error = refused(client, chain, body, 400, "invalid_hex", path="/v1/txs/batch")
    assert error["items"] == [{"index": 2, "code": "invalid_hex", "message": error["items"][0]["message"]}]
    body["txs"].pop()
    error = refused(client, chain, body, 400, "insufficient_balance", path="/v1/txs/batch")
    assert [i["index"] for i in error["items"]] == [1]
    assert "none was accepted" in error["message"]


# --- refused: the transaction rules ----------------------------------------------------------------------


def test_task_and_model_rules(client: TestClient, chain: Chain) -> None:
    sub, miner, other = chain.wallets[:3]
    now = chain.node.admission_timestamp()
    create = sub.sign(
        lambda n: CreateTask(
            n, Arch.LINREG, 1, 0, 0, ETH, now + 100, now + 200, keccak(b"t"), ZERO32, max_fee_price=FEE_PRICE
        )
    )
    assert client.post("/v1/txs", json=raw_body(create)).status_code == 202
    chain.tick()
    refused(
        client,
        chain,
        raw_body(miner.peek(lambda n: CommitModel(n, 99, ZERO32, max_fee_price=FEE_PRICE))),
        400,
        "unknown_task",
    )
    refused(
        client,
        chain,
        raw_body(
            miner.peek(
                lambda n: AddData(
                    n, 99, IntTensor.matrix([[1]]), IntTensor.vector([1]), max_fee_price=FEE_PRICE
                ),
            )
        ),
        400,
        "unknown_model",
    )
    refused(
        client,
        chain,
        raw_body(other.peek(lambda n: FinalizeTask(n, 0, max_fee_price=FEE_PRICE))),
        400,
        "wrong_phase",
    )
    bad_dims = sub.peek(
        lambda n: CreateTask(
            n, Arch.LINREG, 1, 3, 0, ETH, now + 100, now + 200, ZERO32, ZERO32, max_fee_price=FEE_PRICE
        ),
    )
    refused(client, chain, raw_body(bad_dims), 400, "invalid_params")
    assert (
        client.post(
            "/v1/txs",
            json=raw_body(miner.sign(lambda n: CommitModel(n, 0, keccak(b"c"), max_fee_price=FEE_PRICE))),
        ).status_code
        == 202
    )
    chain.tick()
    refused(
        client,
        chain,
        raw_body(miner.peek(lambda n: CommitModel(n, 0, keccak(b"d"), max_fee_price=FEE_PRICE))),
        400,
        "already_committed",
    )
    chain.node.clock.advance(150)  # type: ignore[attr-defined]
    chain.builder.seal()  # the next batch executes after the commit deadline
    features, labels = IntTensor.matrix([[1]]), IntTensor.vector([1])
    refused(
        client,
        chain,
        raw_body(
            miner.peek(
                lambda n: RevealTestSet(
                    n, 0, ZERO32, 1, ZERO32, 0, features, labels, (), max_fee_price=FEE_PRICE
                ),
            )
        ),
        400,
        "not_submitter",
    )
    refused(
        client,
        chain,
        raw_body(
            sub.peek(
                lambda n: RevealTestSet(
                    n, 0, ZERO32, 1, ZERO32, 0, features, labels, (), max_fee_price=FEE_PRICE
                ),
            )
        ),
        400,
        "hash_mismatch",
    )
    refused(
        client,
        chain,
        raw_body(miner.peek(lambda n: CommitModel(n, 0, keccak(b"late"), max_fee_price=FEE_PRICE))),
        400,
        "wrong_phase",
    )
    refused(
        client,
        chain,
        raw_body(
            other.peek(lambda n: RevealModel(n, 0, ZERO32, IntTensor.vector([0, 0]), max_fee_price=FEE_PRICE))
        ),
        400,
        "wrong_phase",
    )
