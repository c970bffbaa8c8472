"""Waiting for a block without holding a thread: the API's long polls (`Sequencer.wait_block`).

The builder's thread wakes the waiting coroutines (`BlockWaiters.notify`) through their event
loops' `call_soon_threadsafe`; at most `limit` (`max_long_polls`) wait at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable


class BlockWaiters:
    """Coroutines waiting for a block, woken from the builder's thread (`notify`): a wait holds a
    future on its event loop, not a thread. At most `limit` wait at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._waiting: set[asyncio.Future[None]] = set()

    def __len__(self) -> int:
        return len(self._waiting)

    def notify(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, set()
        for future in waiting:
            with contextlib.suppress(RuntimeError):  # its loop is closed (the app stopped): nobody waits
                future.get_loop().call_soon_threadsafe(_wake, future)

    async def wait(self, done: Callable[[], bool], timeout: float) -> bool:
        """Until `done()` holds (re-checked after every notification) or `timeout` seconds pass;
        whether it holds. Returns `done()` at once when `limit` coroutines already wait."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            future: asyncio.Future[None] = loop.create_future()
            with self._lock:
                if len(self._waiting) >= self.limit:
                    return done()
                self._waiting.add(future)
            try:
                if done():  # a block that landed before the future was registered
                    return True
                await asyncio.wait_for(future, remaining)
            except TimeoutError:
                return done()
            finally:
                with self._lock:
                    self._waiting.discard(future)
        return True


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
