"""Runs the operations of `client.ops` over httpx: `run_sync` blocking, `run_async` awaiting.

Both answer a `Call` with one HTTP request (the client's timeout plus the call's server-side wait)
and a `Sleep` with a sleep; a network failure or timeout becomes `TransportError`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, TypeVar

import httpx

from client.errors import TransportError
from client.ops import Answer, Call, Op, Sleep

T = TypeVar("T")


def _timeout(client_timeout: float, call: Call) -> httpx.Timeout:
    return httpx.Timeout(client_timeout + call.extra_timeout)


def _answer(response: httpx.Response) -> Answer:
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = response.text
    return Answer(response.status_code, body, {k.lower(): v for k, v in response.headers.items()})


def _failure(call: Call, exc: httpx.HTTPError) -> TransportError:
    return TransportError(f"{call.method} {call.path}: {type(exc).__name__}: {exc}")


def run_sync(op: Op[T], http: httpx.Client, timeout: float) -> T:
    """Drive `op` to its result with blocking requests and sleeps."""
    try:
        step = next(op)
        while True:
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
                step = op.send(None)
                continue
            try:
                response = http.request(
                    step.method,
                    step.path,
                    params=step.params,
                    json=step.json,
                    timeout=_timeout(timeout, step),
                )
            except httpx.HTTPError as exc:
                step = op.throw(_failure(step, exc))
                continue
            step = op.send(_answer(response))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def run_async(op: Op[T], http: httpx.AsyncClient, timeout: float) -> T:
    """Drive `op` to its result with awaited requests and sleeps."""
    try:
        step = next(op)
        while True:
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
                step = op.send(None)
                continue
            try:
                response = await http.request(
                    step.method,
                    step.path,
                    params=step.params,
                    json=step.json,
                    timeout=_timeout(timeout, step),
                )
            except httpx.HTTPError as exc:
                step = op.throw(_failure(step, exc))
                continue
            step = op.send(_answer(response))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
