"""The SDK's typed errors. `ClientError` is the root; each carries the server's reason code and message.

The sequencer answers every refusal as `{"error": {"code", "message", ...}}` (sequencer/core/errors.py
lists the codes); `error_from_response` turns such an answer into the subclass for its code, so a
caller can catch `NonceError` or `CatchingUp` without parsing strings, or `ClientError` for all.
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Root of every SDK error: `code` is the server's reason code (or the SDK's own, e.g. `timeout`),
    `message` what to change, `status` the HTTP status when the server answered, `details` the other
    fields of the error object."""

    def __init__(
        self, code: str, message: str, *, status: int | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}


class ApiError(ClientError):
    """The sequencer refused a request (any 4xx/5xx)."""


class NotFound(ApiError):
    """404: no such tx, task, model, batch, withdrawal or route."""


class TxRejected(ApiError):
    """A submission the admission refused (bad signature, insufficient balance, wrong phase…): nothing
    was stored."""


class NonceError(TxRejected):
    """`nonce_too_low` or `nonce_gap`: the SDK resyncs with the server's pending nonce and retries once."""


class NotFinalized(ApiError):
    """409 `not_finalized`: no final batch holds the withdrawal yet."""


class Unavailable(ApiError):
    """503: catching up with L1, storage unavailable or not ready; retried `max_retries` times after
    `Retry-After` before it is raised. `retry_after` is the server's hint in seconds."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(code, message, status=status, details=details)
        self.retry_after = retry_after


class CatchingUp(Unavailable):
    """503 `catching_up`: the sequencer is bringing its chain in line with L1; nothing was accepted."""


class Busy(Unavailable):
    """429 `sender_busy` or `mempool_full`: the sequencer holds as much pending work as it takes (from
    this sender, or in all); nothing was accepted. Retried after `Retry-After`, as a 503 is."""


class TxFailed(ClientError):
    """A tx was executed but failed: `code` is the protocol's reason (e.g. `WRONG_PHASE`)."""

    def __init__(self, tx_hash: str, reason: str, detail: str) -> None:
        super().__init__(reason, f"tx {tx_hash} failed: {detail or reason}")
        self.tx_hash = tx_hash


class WaitTimeout(ClientError):
    """What the SDK waited for (a receipt, a batch, finality, a deposit) did not happen in time."""

    def __init__(self, message: str) -> None:
        super().__init__("timeout", message)


class TransportError(ClientError):
    """The sequencer could not be reached, or did not answer within the client's timeout."""

    def __init__(self, message: str) -> None:
        super().__init__("transport", message)


class ProtocolMismatch(ClientError):
    """The server speaks another protocol than this SDK (signing domain name or version)."""

    def __init__(self, message: str) -> None:
        super().__init__("protocol_mismatch", message)


class L1Error(ClientError):
    """An L1 transaction or read failed (a revert carries the contract's custom error name)."""


_NONCE_CODES = frozenset({"nonce_too_low", "nonce_gap"})


def _retry_after(headers: dict[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:  # an HTTP date: not what the sequencer sends, so no hint
        return None


def error_from_response(status: int, body: Any, headers: dict[str, str], *, submission: bool) -> ApiError:
    """The typed error of an error answer (`headers` with lower-case names). A body that is not the
    sequencer's error shape still becomes an `ApiError` (code `http_<status>`)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        code, message = str(error["code"]), str(error.get("message", ""))
        details = {k: v for k, v in error.items() if k not in ("code", "message")}
    else:
        code, message, details = f"http_{status}", str(body)[:500], {}
    if status == 503:
        cls = CatchingUp if code == "catching_up" else Unavailable
        return cls(code, message, status=status, details=details, retry_after=_retry_after(headers))
    if status == 429:
        return Busy(code, message, status=status, details=details, retry_after=_retry_after(headers))
    if status == 404:
        return NotFound(code, message, status=status, details=details)
    if code == "not_finalized":
        return NotFinalized(code, message, status=status, details=details)
    if code in _NONCE_CODES:
        return NonceError(code, message, status=status, details=details)
    if submission and 400 <= status < 500:
        return TxRejected(code, message, status=status, details=details)
    return ApiError(code, message, status=status, details=details)
