"""The error answers each route declares in the OpenAPI schema, built from the one table of codes.

A client (and schemathesis) must find in `/openapi.json` every status a route can answer. Some come
from the route, some from layers every route shares: the body limits of `service.asgi` (413, 400),
the validation of path and query parameters (422) and the dependency that waits for the node (503).
`error_responses(*codes)` groups codes by their status (`sequencer.core.errors.ERROR_CODES`) into
FastAPI `responses`, each described by its codes; `COMMON_RESPONSES` is what every route shares.
"""

from __future__ import annotations

from typing import Any

from sequencer.api.schemas import ErrorBody
from sequencer.core.errors import ERROR_CODES, REASON_CODES

Responses = dict[int | str, dict[str, Any]]

# What every route of the app may answer, whatever it does: the body limits (any request may carry a
# body, and one that is too slow to arrive times out: status 408), a parameter outside its schema and
# the node not started yet.
COMMON_CODES: tuple[str, ...] = (
    "payload_too_large",
    "json_too_deep",
    "malformed_json",
    *(code for code, (status, _) in ERROR_CODES.items() if status == 408),
    "invalid_request",
    "not_ready",
)


def error_responses(*codes: str, status: dict[str, int] | None = None) -> Responses:
    """FastAPI `responses` declaring the statuses of `codes`, each with the error body and its codes;
    `status` gives a code another status than the table's (a GET answers `unknown_task` with 404)."""
    by_status: dict[int, list[str]] = {}
    for code in codes:
        if code not in ERROR_CODES:
            raise KeyError(f"{code!r} is not an error code of sequencer.core.errors.ERROR_CODES")
        by_status.setdefault((status or {}).get(code, ERROR_CODES[code][0]), []).append(code)
    return {
        answer: {"model": ErrorBody, "description": ", ".join(f"`{c}`" for c in sorted(set(names)))}
        for answer, names in sorted(by_status.items())
    }


COMMON_RESPONSES: Responses = error_responses(*COMMON_CODES)


# What a submission (`POST /v1/txs`, `POST /v1/txs/batch`) may be refused with: its JSON or bytes,
# the signature and domain, every protocol reason the dry-run names, the limits, storage and L1.
# Codes of status 429 (the bounds on pending work) apply to submissions only.
SUBMIT_CODES: tuple[str, ...] = (
    "invalid_field",
    "invalid_hex",
    "bad_checksum",
    "decode_error",
    "wrong_chain",
    "wrong_domain",
    "nonce_too_low",
    "nonce_gap",
    *(code for code in REASON_CODES.values() if code in ERROR_CODES),
    "already_known",
    "tx_too_large",
    "tensor_too_large",
    "too_many_txs",
    "storage_unavailable",
    "catching_up",
    *(code for code, (status, _) in ERROR_CODES.items() if status == 429),
)


def route_errors(*codes: str, status: dict[str, int] | None = None) -> Responses:
    """A route's `responses`: the codes it answers itself and the common ones (a route's own entry for
    a status replaces the app's, so it must name the common codes of that status too)."""
    return error_responses(*COMMON_CODES, *codes, status=status)
