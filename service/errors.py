"""The service package's typed errors: `ServiceError` is the root.

A refused request body carries what a server needs to answer it: the HTTP status, a stable code
(the sequencer's error codes: `payload_too_large`, `json_too_deep`, `malformed_json`), the limit it
crossed and a message saying what to change.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Root of every error the service package raises."""


class BodyRefused(ServiceError):
    """A request body refused before parsing; subclasses fix `status` and `code`."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, limit: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit


class BodyTooLarge(BodyRefused):
    """The body is larger than the server's byte limit (by its Content-Length or as it streams)."""

    status = 413
    code = "payload_too_large"


class JsonTooDeep(BodyRefused):
    """The body nests arrays and objects deeper than the server's depth limit."""

    status = 400
    code = "json_too_deep"


class JsonNotUtf8(BodyRefused):
    """The body is UTF-16 or UTF-32 JSON (RFC 8259 requires UTF-8 between systems; the byte scan of
    `service.jsonlimits` reads UTF-8 only, so such a body is refused rather than scanned wrongly)."""

    status = 400
    code = "malformed_json"
