"""`JsonLimitsMiddleware`: every request body of an ASGI app checked by `service.jsonlimits` first.

The middleware reads the whole body before the app sees any of it, checking each chunk as it
arrives, and answers a refused body itself, so no parser (FastAPI's, or an error handler's) ever
gets one: 413 `payload_too_large` for a body over `max_bytes` (at once when its Content-Length
says so, without reading it), 400 `json_too_deep` for one nested deeper than `max_depth`, 400
`malformed_json` for UTF-16 or UTF-32 JSON. The answer has the sequencer's error shape,
`{"error": {"code", "message", "limit"}}`. A body the app may read arrives to it as it came.

Depth is checked for a body sent as JSON (`application/json`, `application/*+json`), with no
content type, or with any type not known to be something else: FastAPI parses a body without a
content type as JSON, `curl -d` labels JSON as a form, and the sequencer's error handler reads any
body to say whether it was JSON. Only the size is checked for multipart uploads and binary types.

Usage (one line per app; see `service.jsonlimits`)::

    app.add_middleware(JsonLimitsMiddleware, max_bytes=4 * 2**20, max_depth=32)
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from service.errors import BodyRefused, BodyTooLarge
from service.jsonlimits import DEFAULT_MAX_DEPTH, JsonLimits, JsonScanner

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
OnRefused = Callable[[Scope, BodyRefused], None]

# Content types whose bodies are surely not JSON: only their size is checked.
NOT_JSON_TYPES = frozenset({"multipart", "image", "audio", "video", "font"})
NOT_JSON_SUBTYPES = frozenset(
    {"application/octet-stream", "application/pdf", "application/zip", "application/gzip"}
)


def checks_depth(content_type: str | None) -> bool:
    """Whether a body with this Content-Type header is scanned for depth (JSON or unknown)."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media.split("/", 1)[0] not in NOT_JSON_TYPES and media not in NOT_JSON_SUBTYPES


def error_body(error: BodyRefused) -> dict[str, Any]:
    """The JSON answer to a refused body, in the sequencer's shape (`sequencer/api/errors.py`)."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.limit is not None:
        body["limit"] = error.limit
    return {"error": body}


class JsonLimitsMiddleware:
    """Refuse over-large and over-deep request bodies before the app reads them (module docstring).

    `on_refused(scope, error)`, if given, is called for every refusal (e.g. to count it)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_depth: int = DEFAULT_MAX_DEPTH,
        on_refused: OnRefused | None = None,
    ) -> None:
        self.app = app
        self.limits = JsonLimits(max_bytes, max_depth)
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            limit = self.limits.max_bytes
            await self._refuse(scope, send, BodyTooLarge(f"the request body exceeds {limit} bytes", limit))
            return
        scanner = JsonScanner(self.limits, check_depth=checks_depth(headers.get("content-type")))
        messages: deque[Message] = deque()
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away: the app sees the disconnect and answers nobody
            try:
                scanner.feed(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    scanner.finish()
                    break
            except BodyRefused as error:
                await self._refuse(scope, send, error)
                return

        async def replay() -> Message:
            # The body as it came; then the server's own messages (a disconnect) for the app.
            return messages.popleft() if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send, error: BodyRefused) -> None:
        if self.on_refused is not None:
            self.on_refused(scope, error)
        body = json.dumps(error_body(error), separators=(",", ":")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": error.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    # The rest of the body is never read: the connection cannot carry another request.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _headers(scope: Scope) -> dict[str, str]:
    pairs = scope.get("headers", ())
    return {bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1") for k, v in pairs}
