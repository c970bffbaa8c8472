"""The sequencer's errors. `SequencerError` is the root; `ApiError` carries its HTTP answer.

Every error a client can cause is an `ApiError` with a stable `code` (the table below, also in the
OpenAPI description), an HTTP status and a message saying what to change. The API answers it as
`{"error": {"code": …, "message": …, …extra}}`.
"""

from __future__ import annotations

from typing import Any

from protocol.receipts import Reason


class SequencerError(Exception):
    """Root of every error the sequencer package raises."""


class ConfigError(SequencerError):
    """Settings that cannot work (bad URL, missing deployment file…); the message says what to fix."""


class StartupError(SequencerError):
    """The database cannot be served: a state root that does not match its blocks, another domain."""


class ApiError(SequencerError):
    """A request the service refuses: `status`, a stable `code`, a message and optional extra fields."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
        self.headers = headers  # HTTP headers of the answer (Retry-After)
        self.counted = False  # by the metrics, once

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


# The code of a tx the dry-run rejects, by the protocol's failure reason (BAD_NONCE is split into
# nonce_too_low and nonce_gap by the admission, which knows the expected nonce).
REASON_CODES: dict[Reason, str] = {
    Reason.DECODE_ERROR: "decode_error",
    Reason.BAD_SIGNATURE: "bad_signature",
    Reason.BAD_NONCE: "bad_nonce",
    Reason.INSUFFICIENT_BALANCE: "insufficient_balance",
    Reason.UNKNOWN_TASK: "unknown_task",
    Reason.UNKNOWN_MODEL: "unknown_model",
    Reason.WRONG_PHASE: "wrong_phase",
    Reason.NOT_SUBMITTER: "not_submitter",
    Reason.ALREADY_COMMITTED: "already_committed",
    Reason.NO_COMMITMENT: "no_commitment",
    Reason.HASH_MISMATCH: "hash_mismatch",
    Reason.INVALID_PARAMS: "invalid_params",
    Reason.FEE_PRICE_TOO_LOW: "fee_price_too_low",
    Reason.FEE_UNPAID: "fee_unpaid",
}

# Every code the API answers with, its status and when: the OpenAPI description prints this table.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "malformed_json": (400, "the body is not JSON (or is JSON in UTF-16 or UTF-32, not UTF-8)"),
    "json_too_deep": (400, "the body nests arrays and objects deeper than max_json_depth"),
    "invalid_request": (422, "the JSON does not have the documented shape"),
    "invalid_field": (422, "a typed field is out of its range or badly written (address, hex, int)"),
    "invalid_hex": (400, "`raw`, a hash, key or address is not the hex it should be"),
    "bad_checksum": (
        400,
        "a mixed-case address whose EIP-55 checksum does not match (mistyped?): check it, or send it "
        "all lowercase",
    ),
    "decode_error": (400, "the raw bytes are not one canonical signed tx (docs/spec.md section 3)"),
    "bad_signature": (400, "the signature does not recover (r or s zero, s above n/2, not on the curve)"),
    "wrong_chain": (400, "the tx names another chain id than this deployment's"),
    "wrong_domain": (
        400,
        "the tx names another Rollup contract, or its signature recovers to another address than "
        "`from` (signed for another chain or contract, or with another key)",
    ),
    "nonce_too_low": (400, "the nonce is already used (a replay): sign with the account's pending nonce"),
    "nonce_gap": (400, "the nonce leaves a gap after the account's pending nonce"),
    "insufficient_balance": (400, "the pending balance cannot pay the amount or reward"),
    "unknown_task": (400, "no such task (404 on GET)"),
    "unknown_model": (400, "no such shared model (404 on GET)"),
    "wrong_phase": (400, "the task is not in the phase this tx needs (deadlines, reveal, finalized)"),
    "not_submitter": (400, "only the task's submitter may reveal its test set"),
    "already_committed": (400, "this miner already committed on the task"),
    "no_commitment": (400, "this miner has no commitment on the task"),
    "hash_mismatch": (400, "the revealed data and salt do not match the commitment"),
    "invalid_params": (400, "a parameter breaks a rule of the tx type (shapes, deadlines, dims, labels)"),
    "fee_price_too_low": (
        400,
        "the tx's signed max_fee_price is below the deployment's fee price (GET /v1/fees): sign again",
    ),
    "fee_unpaid": (400, "the pending balance cannot pay the tx's fee (fee units x price, GET /v1/fees)"),
    "already_known": (409, "this exact tx was already accepted (pending or executed)"),
    "not_finalized": (409, "no finalized (or sealed) batch holds the withdrawal yet"),
    "payload_too_large": (413, "the request body exceeds max_body_bytes"),
    "tx_too_large": (413, "an encoded tx exceeds MAX_TX_BYTES"),
    "tensor_too_large": (413, "a tensor exceeds MAX_TENSOR_ELEMENTS or MAX_TENSOR_DIM"),
    "too_many_txs": (413, "a list holds more than max_list_txs txs"),
    "not_found": (404, "no such route, tx, block, batch or withdrawal"),
    "request_timeout": (408, "the request's body did not arrive within request_timeout_s"),
    "sender_busy": (
        429,
        "the sender's pending txs already hold max_pending_steps_per_sender steps of work: retry after "
        "`Retry-After` seconds, once some are executed, or send less at once",
    ),
    "mempool_full": (
        429,
        "all pending txs together hold max_pending_steps steps of work: retry after `Retry-After` seconds",
    ),
    "method_not_allowed": (405, "the route does not take this method"),
    "storage_unavailable": (503, "the database did not take the write; nothing was accepted, retry"),
    "catching_up": (
        503,
        "the sequencer is bringing its chain in line with L1 (our batches deleted, another proposer's "
        "batch, one it refused): nothing was accepted; retry after `Retry-After` seconds",
    ),
    "not_ready": (503, "the service is starting or its block builder stopped"),
    "overloaded": (
        503,
        "the server is handling limit_concurrency requests at once; retry after `Retry-After`",
    ),
    "internal_error": (500, "a bug: the service logged it"),
}


def error_table_markdown() -> str:
    """The table of error codes, for the OpenAPI description."""
    rows = "\n".join(f"| `{code}` | {status} | {what} |" for code, (status, what) in ERROR_CODES.items())
    return "| code | status | when |\n| --- | --- | --- |\n" + rows


def api_error(code: str, message: str, *, headers: dict[str, str] | None = None, **extra: Any) -> ApiError:
    """An `ApiError` with the status the table gives `code`."""
    return ApiError(ERROR_CODES[code][0], code, message, headers=headers, **extra)
