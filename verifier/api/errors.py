"""Every error answer is `{"error": {"code", "message"}}`, as the sequencer's."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from verifier.api.schemas import ErrorBody

log = logging.getLogger("verifier.api")

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


# What every route may answer whatever it does (`/openapi.json` declares them on each route): the body
# limits of `service.asgi` (any request may carry a body) and a parameter outside its schema.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "`json_too_deep`, `malformed_json`: a body over the limits"},
    413: {"model": ErrorBody, "description": "`payload_too_large`: a body over MAX_BODY_BYTES"},
    422: {"model": ErrorBody, "description": "`invalid_request`: a parameter outside its schema"},
}


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The JSON answer `{"error": {"code", "message"}}`."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    message = str(exc.detail)
    if code == "not_found" and exc.detail == "Not Found":
        message = f"no route {request.method} {request.url.path}: see /docs"
    # Starlette's 405 names the route's methods in `Allow` (RFC 9110 requires it): keep its headers.
    return error_response(exc.status_code, code, message, exc.headers)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return error_response(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "an unexpected error; it was logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
