"""The sync `Client` behind the `AsyncClient` interface, so that one scenario runs both flavours at
once: each sync method runs in a thread (the real blocking code path) and is awaited."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from client.sdk import AsyncClient, Client
from tests.client.conftest import ClientStack

T = TypeVar("T")
FLAVOURS = ("sync", "async")


class Threaded:
    """`Client`'s methods as coroutines (each in a worker thread); attributes pass through."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.client, name)
        if not callable(value):
            return value

        @functools.wraps(value)
        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(value, *args, **kwargs)

        return call

    async def close(self) -> None:
        self.client.close()


def open_client(stack: ClientStack, flavour: str, user: str | None) -> Any:
    """A client of `flavour` for `user` (`{user}_{flavour}`), read-only for None."""
    key = None if user is None else stack.key(f"{user}_{flavour}")
    if flavour == "sync":
        return Threaded(Client(stack.url, key))
    return AsyncClient(stack.url, key)


def both(scenario: Callable[[str], Coroutine[Any, Any, T]]) -> dict[str, T]:
    """Run `scenario(flavour)` for the sync and the async client concurrently; their results."""

    async def run() -> list[T]:
        return list(await asyncio.gather(*(scenario(f) for f in FLAVOURS)))

    return dict(zip(FLAVOURS, asyncio.run(run()), strict=True))


async def closing(client: Any, body: Callable[[Any], Awaitable[T]]) -> T:
    try:
        return await body(client)
    finally:
        await client.close()
