"""Every error becomes `{"error": {"code", "message", …}}`.

A body over the size or depth limits never gets here: `service.asgi.JsonLimitsMiddleware` answers
it in the same shape, and `count_refused_body` counts it with the other refusals."""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from sequencer.core.errors import ERROR_CODES, ApiError, api_error
from service.asgi import Scope
from service.errors import BodyRefused
from service.jsonlimits import DEFAULT_MAX_DEPTH, check_json_body

log = logging.getLogger("sequencer.api")

# A 400 from FastAPI itself is a body `json.loads` refused with something else than a JSON error (a
# number of more than 4,300 digits, bytes that are not UTF-8 inside a string).
_HTTP_CODES = {400: "malformed_json", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def error_response(error: ApiError, request: Request | None = None) -> JSONResponse:
    """The JSON answer; a refused submission (`POST /v1/txs…`) is counted in the metrics."""
    if request is not None and request.method == "POST" and request.url.path.startswith("/v1/txs"):
        node = getattr(request.app.state, "sequencer", None)
        if node is not None:
            node.metrics.count_rejection(error)
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def count_refused_body(scope: Scope, refused: BodyRefused) -> None:
    """Count a submission whose body the JSON limits refused, as `error_response` counts the rest."""
    if scope.get("method") == "POST" and str(scope.get("path", "")).startswith("/v1/txs"):
        node = getattr(scope["app"].state, "sequencer", None) if "app" in scope else None
        if node is not None:
            node.metrics.count_rejection(ApiError(refused.status, refused.code, refused.message))


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        ctx = errors[0].get("ctx") or {}
        message = f"the body is not valid JSON: {ctx.get('error', '')}"
        return error_response(api_error("malformed_json", message), request)
    if len(errors) == 1 and tuple(errors[0].get("loc", ())) == ("body",):
        raw = errors[0].get("input")
        if errors[0].get("type") == "missing":
            message = "the body is empty: send a JSON object (POST /v1/txs: see /docs)"
            return error_response(api_error("invalid_request", message), request)
        if isinstance(raw, bytes | str) and not _sent_as_json(request):  # a body FastAPI did not parse
            body = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
            try:
                # The JSON limits did not scan the depth of a binary content type: scan it before
                # parsing, which would recurse once per level.
                check_json_body(body, max_bytes=len(body), max_depth=_max_depth(request))
                json.loads(body)
            except BodyRefused as refused:
                return error_response(ApiError(refused.status, refused.code, refused.message), request)
            except (ValueError, RecursionError) as exc:
                message = f"the body is not valid JSON (send it with Content-Type: application/json): {exc}"
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


def _sent_as_json(request: Request) -> bool:
    """Whether FastAPI parsed the body as JSON: no content type, or a JSON one."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return not media or media == "application/json" or media.endswith("+json")


def _max_depth(request: Request) -> int:
    settings = getattr(request.app.state, "settings", None)
    return int(getattr(settings, "max_json_depth", DEFAULT_MAX_DEPTH))


def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc, request)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    message = str(exc.detail) if exc.detail else ERROR_CODES.get(code, (0, "error"))[1]
    if code == "not_found" and exc.detail == "Not Found":
        message = f"no route {request.method} {request.url.path}: see /docs"
    if code == "malformed_json":  # FastAPI's 400: json.loads raised something else than a JSON error
        message = (
            f"the body could not be parsed ({exc.detail}): send UTF-8 JSON, with integers of at most "
            "4,300 digits (give amounts as decimal strings)"
        )
    # Starlette's 405 names the route's methods in `Allow` (RFC 9110 requires it): keep its headers.
    headers = dict(exc.headers) if exc.headers else None
    return error_response(ApiError(exc.status_code, code, message, headers=headers), request)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(api_error("internal_error", "an unexpected error; it was logged"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
