"""Every error becomes `{"error": {"code", "message", …}}`; a body over the limit is refused early."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sequencer.core.errors import ERROR_CODES, ApiError, api_error

log = logging.getLogger("sequencer.api")

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def error_response(error: ApiError, request: Request | None = None) -> JSONResponse:
    """The JSON answer; a refused submission (`POST /v1/txs…`) is counted in the metrics."""
    if request is not None and request.method == "POST" and request.url.path.startswith("/v1/txs"):
        node = getattr(request.app.state, "sequencer", None)
        if node is not None:
            node.metrics.count_rejection(error)
    return JSONResponse(error.body(), status_code=error.status)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        ctx = errors[0].get("ctx") or {}
        message = f"the body is not valid JSON: {ctx.get('error', '')}"
        return error_response(api_error("malformed_json", message), request)
    if len(errors) == 1 and tuple(errors[0].get("loc", ())) == ("body",):
        raw = errors[0].get("input")
        if isinstance(raw, bytes | str):  # a body FastAPI did not parse: not sent as JSON
            try:
                json.loads(raw)
            except ValueError as exc:
                message = f"the body is not valid JSON: {exc}"
                return error_response(api_error("malformed_json", message), request)
            message = "the body is JSON but was not sent with Content-Type: application/json"
            return error_response(api_error("invalid_request", message), request)
    details = [
        {
            "loc": ".".join(str(p) for p in e.get("loc", ())),
            "message": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in errors[:20]
    ]
    first = details[0] if details else {"loc": "body", "message": "invalid"}
    message = f"{first['loc']}: {first['message']}"
    return error_response(api_error("invalid_request", message, details=details), request)


def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc, request)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    message = str(exc.detail) if exc.detail else ERROR_CODES.get(code, (0, "error"))[1]
    if code == "not_found" and exc.detail == "Not Found":
        message = f"no route {request.method} {request.url.path}: see /docs"
    return error_response(ApiError(exc.status_code, code, message), request)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(api_error("internal_error", "an unexpected error; it was logged"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


class _BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds {limit} bytes (max_body_bytes)")


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes`: by Content-Length before reading, else while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and (not value.isdigit() or int(value) > limit):
                message = f"the request body exceeds {limit} bytes (max_body_bytes)"
                request = Request(scope)
                await error_response(api_error("payload_too_large", message), request)(scope, receive, send)
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message: dict[str, Any] = dict(await receive())
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)
