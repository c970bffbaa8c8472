"""The SDK's shared operations without a server: each `Call` is answered from a script, so the
retry bounds, the nonce resync and the waits are checked exactly (the same code runs in `Client` and
`AsyncClient`; tests/client/test_sdk.py runs both against a live stack)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from client import ops
from client.errors import (
    Busy,
    CatchingUp,
    ClientError,
    NonceError,
    NotFinalized,
    TxFailed,
    TxRejected,
    WaitTimeout,
)
from client.ops import Answer, Call, RetryPolicy, Session, Sleep
from client.wallet import Wallet
from protocol.codec import decode_tx
from protocol.txs import Transfer
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE

INFO = {"name": "mlrollup", "version": "1", "domain": DOMAIN.as_dict(), "settings": {}, "limits": {}}
KEY = (7).to_bytes(32, "big")


def account(pending_nonce: int, balance: int = 0) -> dict[str, Any]:
    return {
        "address": Wallet(KEY).checksum,
        "balance": str(balance),
        "nonce": pending_nonce,
        "pending_balance": str(balance),
        "pending_nonce": pending_nonce,
        "block": 1,
    }


def error(status: int, code: str, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, {"error": {"code": code, "message": f"the {code} message"}}, headers or {})


Handler = Callable[[Call], Answer]


def drive(op: ops.Op[Any], handler: Handler) -> tuple[Any, list[Call | Sleep]]:
    """Run `op` answering each call with `handler`; the result and every step it yielded."""
    steps: list[Call | Sleep] = []
    try:
        step = next(op)
        while True:
            steps.append(step)
            step = op.send(None if isinstance(step, Sleep) else handler(step))
    except StopIteration as stop:
        return stop.value, steps


FEES_BODY = {
    "price": str(FEE_PRICE),
    "recipient": "0x" + "fe" * 20,
    "units_per_byte": 40,
    "units_per_step": 1_300,
    "units_per_mac": 1,
}


def session(**kwargs: Any) -> Session:
    return Session(Wallet(KEY), **kwargs)


def transfer(nonce: int, max_fee_price: int) -> Transfer:
    """The tx the submissions send, as the SDK takes one: a function of the nonce and the fee price."""
    return Transfer(nonce, b"\x22" * 20, 1, max_fee_price)


def served(call: Call) -> Answer | None:
    """The answer to `GET /v1/info` or `GET /v1/fees`, which never change; None for any other call."""
    if call.path == "/v1/info":
        return Answer(200, INFO, {})
    if call.path == "/v1/fees":
        return Answer(200, FEES_BODY, {})
    return None


def test_503_is_retried_after_retry_after_and_the_retries_are_bounded() -> None:
    answers = [error(503, "catching_up", {"retry-after": "2"})] * 2 + [Answer(200, INFO, {})]
    got, steps = drive(ops.info(session()), lambda call: answers.pop(0))
    assert got.name == "mlrollup"
    assert [s for s in steps if isinstance(s, Sleep)] == [Sleep(2.0), Sleep(2.0)]

    policy = RetryPolicy(max_retries=3, max_delay_s=0.5)
    op = ops.info(session(retry=policy))
    steps = [next(op)]
    with pytest.raises(CatchingUp) as caught:
        while True:
            step = steps[-1]
            steps.append(
                op.send(None if isinstance(step, Sleep) else error(503, "catching_up", {"retry-after": "9"}))
            )
    assert caught.value.retry_after == 9.0 and caught.value.status == 503
    # the first try and three retries, each after Retry-After capped at max_delay_s
    assert [type(s) for s in steps] == [Call, Sleep, Call, Sleep, Call, Sleep, Call]
    assert {s.seconds for s in steps if isinstance(s, Sleep)} == {0.5}


def test_a_429_is_retried_after_retry_after() -> None:
    """A sequencer holding as much pending work as it takes answers 429 with Retry-After: nothing was
    accepted, so the SDK sends the same request again after the hint, as after a 503."""
    answers = [error(429, "sender_busy", {"retry-after": "3"}), Answer(200, INFO, {})]
    got, steps = drive(ops.info(session()), lambda call: answers.pop(0))
    assert got.name == "mlrollup" and [s for s in steps if isinstance(s, Sleep)] == [Sleep(3.0)]
    op = ops.info(session(retry=RetryPolicy(max_retries=0)))
    next(op)
    with pytest.raises(Busy) as caught:
        op.send(error(429, "mempool_full", {"retry-after": "7"}))
    assert (caught.value.code, caught.value.status, caught.value.retry_after) == ("mempool_full", 429, 7.0)


def test_a_4xx_is_raised_at_once_with_the_servers_code() -> None:
    calls: list[Call] = []

    def handler(call: Call) -> Answer:
        calls.append(call)
        return error(404, "unknown_task")

    with pytest.raises(ClientError) as caught:
        drive(ops.task(session(), 5), handler)
    assert (caught.value.code, caught.value.status, caught.value.message) == (
        "unknown_task",
        404,
        "the unknown_task message",
    )
    assert len(calls) == 1


def test_nonces_are_tracked_locally_and_resynced_after_a_nonce_error() -> None:
    server_nonce = {"next": 4}
    posted: list[int] = []

    def handler(call: Call) -> Answer:
        if (fixed := served(call)) is not None:
            return fixed
        if call.path.startswith("/v1/accounts/"):
            return Answer(200, account(server_nonce["next"]), {})
        signed = decode_tx(bytes.fromhex(call.json["raw"][2:]))
        posted.append(signed.tx.nonce)
        if signed.tx.nonce != server_nonce["next"]:
            return error(400, "nonce_too_low" if signed.tx.nonce < server_nonce["next"] else "nonce_gap")
        server_nonce["next"] += 1
        body = {
            "hash": "0x" + signed.hash.hex(),
            "type": "Transfer",
            "sender": "0x",
            "nonce": signed.tx.nonce,
        }
        return Answer(202, body, {})

    s = session()
    for _ in range(3):
        drive(ops.submit(s, transfer), handler)
    assert posted == [4, 5, 6]  # one account read, then local nonces
    server_nonce["next"] = 10  # another client with the same key sent txs meanwhile
    got, _ = drive(ops.submit(s, transfer), handler)
    assert got.nonce == 10 and posted[-2:] == [7, 10]

    server_nonce["next"] = 0  # resynced once only: a second nonce error is raised
    with pytest.raises(NonceError):
        drive(
            ops.submit(s, transfer),
            lambda call: _always_low(call, handler),
        )


def _always_low(call: Call, handler: Handler) -> Answer:
    if call.method == "POST":
        return error(400, "nonce_too_low")
    return handler(call)


def test_a_refused_tx_drops_the_local_nonce() -> None:
    reads: list[str] = []

    def handler(call: Call) -> Answer:
        if (fixed := served(call)) is not None:
            return fixed
        if call.method == "GET":
            reads.append(call.path)
            return Answer(200, account(0), {})
        return error(400, "insufficient_balance")

    s = session()
    for _ in range(2):
        with pytest.raises(TxRejected) as caught:
            drive(ops.submit(s, transfer), handler)
        assert caught.value.code == "insufficient_balance"
    assert len(reads) == 2  # the nonce taken was not used: asked again


def test_wait_for_receipt_fails_a_failed_tx_and_times_out() -> None:
    receipt = {
        "success": False,
        "reason": "WRONG_PHASE",
        "reason_code": 7,
        "detail": "too late",
        "block": 3,
        "index": 0,
        "first_step": 0,
        "last_step": 0,
        "batch": 1,
    }
    tx: dict[str, Any] = {
        "hash": "0xab",
        "status": "failed",
        "type": "Transfer",
        "sender": None,
        "nonce": 0,
        "raw": "0x",
    }
    tx |= {"received_at": 0.0, "receipt": receipt}
    with pytest.raises(TxFailed) as caught:
        drive(ops.wait_for_receipt(session(), "0xab"), lambda call: Answer(200, tx, {}))
    assert caught.value.code == "WRONG_PHASE"
    got, _ = drive(ops.wait_for_receipt(session(), "0xab", check=False), lambda call: Answer(200, tx, {}))
    assert got.reason_code == 7

    pending = tx | {"status": "pending", "receipt": None}
    with pytest.raises(WaitTimeout):
        drive(ops.wait_for_receipt(session(), "0xab", timeout=0.0), lambda call: Answer(200, pending, {}))


def test_wait_for_withdrawal_proof_polls_past_not_finalized() -> None:
    proof: dict[str, Any] = {
        "id": 0,
        "recipient": "0x" + "22" * 20,
        "amount": "5",
        "key": "0x",
        "value": "0x",
    }
    proof |= {"batch": 2, "batch_status": "final", "root": "0x", "proof": "0x"}
    answers = [error(409, "not_finalized")] * 3 + [Answer(200, proof, {})]
    got, steps = drive(ops.wait_for_withdrawal_proof(session(poll_s=0.0), 0), lambda call: answers.pop(0))
    assert got.amount == 5 and got.batch == 2
    assert sum(isinstance(s, Sleep) for s in steps) == 3
    with pytest.raises(NotFinalized):
        drive(ops.withdrawal_proof(session(), 0), lambda call: error(409, "not_finalized"))


def test_a_server_of_another_protocol_is_refused() -> None:
    other = INFO | {"version": "2"}
    with pytest.raises(ClientError) as caught:
        drive(ops.domain(session()), lambda call: Answer(200, other, {}))
    assert caught.value.code == "protocol_mismatch"


def test_signing_needs_a_key() -> None:
    with pytest.raises(ClientError) as caught:
        drive(
            ops.submit(Session(None), transfer),
            lambda c: Answer(200, INFO, {}),
        )
    assert caught.value.code == "no_key"


def test_a_list_is_signed_with_consecutive_nonces_and_posted_at_once() -> None:
    posted: list[Call] = []

    def handler(call: Call) -> Answer:
        if (fixed := served(call)) is not None:
            return fixed
        if call.method == "GET":
            return Answer(200, account(3), {})
        posted.append(call)
        nonces = [decode_tx(bytes.fromhex(t["raw"][2:])).tx.nonce for t in call.json["txs"]]
        accepted = [{"hash": "0x", "type": "Transfer", "sender": "0x", "nonce": n} for n in nonces]
        return Answer(202, {"txs": accepted}, {})

    makes = [lambda n, p, a=a: Transfer(n, b"\x22" * 20, a, p) for a in (1, 2, 3)]
    got, _ = drive(ops.submit_many(session(), makes), handler)
    assert [t.nonce for t in got] == [3, 4, 5]
    assert [c.path for c in posted] == ["/v1/txs/batch"]
    with pytest.raises(ClientError):
        drive(ops.submit_many(session(), []), handler)


def test_txs_sign_the_served_fee_price_or_the_override() -> None:
    """The SDK signs `max_fee_price` as `GET /v1/fees` says (read once), unless the client overrides it."""
    calls: list[str] = []
    signed: list[int] = []

    def handler(call: Call) -> Answer:
        calls.append(call.path)
        if (fixed := served(call)) is not None:
            return fixed
        if call.method == "GET":
            return Answer(200, account(0), {})
        tx = decode_tx(bytes.fromhex(call.json["raw"][2:])).tx
        signed.append(tx.max_fee_price)
        return Answer(202, {"hash": "0x", "type": "Transfer", "sender": "0x", "nonce": tx.nonce}, {})

    s = session()
    drive(ops.submit(s, transfer), handler)
    drive(ops.submit(s, transfer), handler)
    assert signed == [FEE_PRICE, FEE_PRICE] and calls.count("/v1/fees") == 1
    override = session(max_fee_price=3 * FEE_PRICE)
    drive(ops.submit(override, transfer), handler)
    assert signed[-1] == 3 * FEE_PRICE
