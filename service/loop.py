"""A role's background loop on a daemon thread, started and stopped the same way by every role
(the block builder, the batcher, the L1 follower, the verifier)."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Loop:
    """Runs `run` on a daemon thread named `name` from `start()`; `run` returns once `stopping` is
    set, which `stop()` does before it joins the thread."""

    def __init__(self, name: str, run: Callable[[], None]) -> None:
        self.name = name
        self._run = run
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (nothing, if it runs already)."""
        if self.alive:
            return
        self.stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the loop to stop and wait for it at most `timeout` seconds; whether it stopped."""
        self.stopping.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
