"""The sequencer's error answers become typed `ClientError`s carrying its reason code and message."""

from __future__ import annotations

import pytest

from client.errors import (
    ApiError,
    CatchingUp,
    ClientError,
    NonceError,
    NotFinalized,
    NotFound,
    TxFailed,
    TxRejected,
    Unavailable,
    error_from_response,
)


def body(code: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": "why", **extra}}


@pytest.mark.parametrize(
    ("status", "code", "submission", "cls"),
    [
        (400, "nonce_too_low", True, NonceError),
        (400, "nonce_gap", True, NonceError),
        (400, "insufficient_balance", True, TxRejected),
        (413, "tx_too_large", True, TxRejected),
        (422, "invalid_request", False, ApiError),
        (404, "unknown_task", False, NotFound),
        (409, "not_finalized", False, NotFinalized),
        (503, "catching_up", True, CatchingUp),
        (503, "storage_unavailable", True, Unavailable),
        (500, "internal_error", False, ApiError),
    ],
)
def test_each_code_has_its_type(status: int, code: str, submission: bool, cls: type[ApiError]) -> None:
    error = error_from_response(status, body(code, index=1), {}, submission=submission)
    assert type(error) is cls and isinstance(error, ClientError)
    assert (error.code, error.message, error.status, error.details) == (code, "why", status, {"index": 1})
    assert str(error) == f"{code}: why"


def test_retry_after_and_a_body_that_is_not_the_error_shape() -> None:
    error = error_from_response(503, body("catching_up"), {"retry-after": "3"}, submission=True)
    assert isinstance(error, CatchingUp) and error.retry_after == 3.0
    odd = error_from_response(502, "Bad Gateway", {}, submission=False)
    assert (type(odd), odd.code, odd.message) == (ApiError, "http_502", "Bad Gateway")


def test_tx_failed_carries_the_protocol_reason() -> None:
    error = TxFailed("0xab", "WRONG_PHASE", "too late")
    assert (error.code, error.tx_hash, error.status) == ("WRONG_PHASE", "0xab", None)
    assert "too late" in error.message
