"""The devnet's block timer: an empty block on an interval, so that the chain moves while idle.

A follower that waits for confirmations (the sequencer's deposit watcher, `MLROLLUP_DEPOSIT_
CONFIRMATIONS` 1 by default) needs blocks on top of the one it watches; a devnet that mined only
on a transaction would leave a deposit unconfirmed until someone sent another one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class BlockTimer:
    """Call `mine()` every `interval_s` seconds from a daemon thread until `stop()`.

    `mine` must do its own locking: the timer runs beside the JSON-RPC handler threads."""

    def __init__(self, mine: Callable[[], object], interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"the block interval must be > 0 s, got {interval_s}")
        self.interval_s = interval_s
        self._mine = mine
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="devnet-block-timer", daemon=True)

    def start(self) -> BlockTimer:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopped.wait(self.interval_s):
            try:
                self._mine()
            except Exception:  # one failed block must not stop the chain from moving
                log.exception("mining an empty block failed; trying again in %.1f s", self.interval_s)
