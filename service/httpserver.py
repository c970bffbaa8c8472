"""The roles' HTTP server: uvicorn with limits, so that slow or idle clients cannot hold it.

uvicorn times out only a keep-alive connection idle *after* an answer: a client that connects and
sends nothing, or half a request's headers, or a body byte by byte, holds its connection (and, for
the body, the request's task) for as long as it likes. `ServerLimits` closes those:

- `header_timeout_s`: a request's line and headers must be complete within this, from the
  connection or, on a kept-alive connection, from the request's first byte (`HeaderTimeoutProtocol`,
  uvicorn's h11 protocol with a timer); otherwise the server writes a 408 and closes the connection.
  A kept-alive connection that sends nothing is closed, silently, after `timeout_keep_alive_s`.
- `body_timeout_s`: the body must be complete within this after the headers
  (`BodyTimeoutMiddleware`); otherwise the app answers 408 `request_timeout` and the connection is
  closed.
- `limit_concurrency`: requests handled at once; beyond it the server answers 503 `overloaded` (JSON,
  `Retry-After: 1`) at once (`ConcurrencyLimitMiddleware`, outermost). uvicorn's own limit, on
  connections and requests, is twice it: the last guard, with uvicorn's plain-text 503.
- `timeout_keep_alive_s`: an idle keep-alive connection is closed after this (uvicorn's own).
- `max_header_bytes`: the largest request line and headers h11 buffers (uvicorn's
  `h11_max_incomplete_event_size`); beyond it, 400.

`config(app, limits, ...)` is the `uvicorn.Config` with all of them; `serve` runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """How long and how many clients the server waits for (module docstring)."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 60.0
    limit_concurrency: int = 2_048
    timeout_keep_alive_s: float = 5.0
    max_header_bytes: int = 64 * 2**10


def _timeout_answer(message: str) -> bytes:
    body = json.dumps({"error": {"code": "request_timeout", "message": message}}).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing (after a 408) a connection whose request line and headers
    are not complete within `header_timeout_s` of the connection, or of the first byte of a next
    request on a kept-alive connection."""

    header_timeout_s = 10.0  # set on a subclass by `protocol_with`

    _header_timer: asyncio.TimerHandle | None = None
    _timed_cycle: object | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        idle = self.cycle is None or self.cycle.response_complete
        if idle and self._header_timer is None and self.cycle is not None:
            self._arm()  # the first bytes of a next request on a kept-alive connection
        super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and self.cycle is not self._timed_cycle:
            self._timed_cycle = self.cycle  # a request's headers arrived: its body has its own timer
            self._disarm()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._timed_out)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _timed_out(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        limit = self.header_timeout_s
        self.transport.write(_timeout_answer(f"the request's headers did not arrive within {limit:g} s"))
        self.transport.close()


def protocol_with(header_timeout_s: float) -> type[HeaderTimeoutProtocol]:
    """`HeaderTimeoutProtocol` with this timeout (uvicorn instantiates the class itself)."""
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout_s": header_timeout_s})


class BodyTimeout(Exception):
    """The request's body did not arrive in time (raised from `receive`, answered with a 408)."""


class BodyTimeoutMiddleware:
    """Answer 408 `request_timeout` (and close the connection) when a request's body is not complete
    within `timeout_s` of the app's first read of it. Add it outermost: it must see the first read."""

    def __init__(self, app: ASGIApp, *, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        body_done = False
        answered = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:  # after the body, `receive` waits for a disconnect: no limit
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise BodyTimeout from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed_receive, tracked_send)
        except BodyTimeout:
            if answered:
                raise
            message = f"the request's body did not arrive within {self.timeout_s:g} s"
            start, body = _json_answer(408, "request_timeout", message, [(b"connection", b"close")])
            await send(start)
            await send(body)


def _json_answer(
    status: int, code: str, message: str, headers: list[tuple[bytes, bytes]]
) -> tuple[Message, Message]:
    """The ASGI messages of a JSON error answer in the API's format."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    return (
        {"type": "http.response.start", "status": status, "headers": head},
        {"type": "http.response.body", "body": body},
    )


class ConcurrencyLimitMiddleware:
    """Answer 503 `overloaded` (JSON, `Retry-After: 1`, without reading the request) to an HTTP
    request that arrives while `limit` others are being handled, so that an overloaded role still
    says what happened in its API's error format."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.active = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.active >= self.limit:
            message = f"the server is handling {self.limit} requests at once: retry in a moment"
            start, body = _json_answer(503, "overloaded", message, [(b"retry-after", b"1")])
            await send(start)
            await send(body)
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1


def config(app: Any, limits: ServerLimits, **options: Any) -> uvicorn.Config:
    """The `uvicorn.Config` of `app` with `limits` (the body timeout is the app's middleware; the
    concurrency limit wraps `app` here)."""
    return uvicorn.Config(
        ConcurrencyLimitMiddleware(app, limit=limits.limit_concurrency),
        http=protocol_with(limits.header_timeout_s),
        limit_concurrency=2 * limits.limit_concurrency,
        timeout_keep_alive=max(1, round(limits.timeout_keep_alive_s)),
        h11_max_incomplete_event_size=limits.max_header_bytes,
        **options,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, but a SIGINT or SIGTERM it shut down on is a clean stop (exit 0): uvicorn
    re-raises the signal after its shutdown, which made every stopped role exit 130 or -15.
    `on_stop` hears the signal instead."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[int], None] | None) -> None:
        super().__init__(config)
        self._on_stop = on_stop

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            stopped_by = list(self._captured_signals)
            self._captured_signals.clear()
        if stopped_by and self._on_stop is not None:
            self._on_stop(stopped_by[0])


def serve(
    app: Any, limits: ServerLimits, *, on_stop: Callable[[int], None] | None = None, **options: Any
) -> None:
    """Run `app` with uvicorn under `limits` until it is stopped (SIGINT, SIGTERM), then return
    normally, after calling `on_stop(signal)`."""
    _Server(config(app, limits, **options), on_stop).run()
