"""The group committer: accepted txs stored on one thread, every waiting submission in one transaction.

A submission is dry-run and added to the mempool under the sequencer's lock, queued here, and
answered once its transaction commits; the block builder takes only txs up to the sequencer's
`durable_seq`. If a commit fails, every tx not yet durable is dropped from the mempool and refused
(503 `storage_unavailable`), and the pending state is rebuilt: nothing is acknowledged that is not
stored.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from sequencer.core.errors import api_error

if TYPE_CHECKING:
    from sequencer.node import Sequencer

log = logging.getLogger("sequencer")


class Ticket:
    """A submission waiting for its commit: `future` resolves once stored, or fails with the
    `ApiError` storage_unavailable."""

    __slots__ = ("future", "rows")

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.future: Future[None] = Future()


class GroupCommitter:
    """Commits accepted txs on one thread, every waiting submission in one transaction (module
    docstring)."""

    def __init__(self, node: Sequencer) -> None:
        self.node = node
        self._queue: list[Ticket] = []
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None

    def enqueue(self, rows: list[dict[str, Any]]) -> Ticket:
        """Queue rows (caller holds the sequencer's lock, so queue order is seq order)."""
        ticket = Ticket(rows)
        with self._cond:
            if self._thread is None:  # not started: commit inline (tests, tools)
                self._commit([ticket])
                return ticket
            self._queue.append(ticket)
            self._cond.notify()
        return ticket

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stop:
                    self._cond.wait()
                if not self._queue:
                    return
                group, self._queue = self._queue, []
            self._commit(group)

    def _commit(self, group: list[Ticket]) -> None:
        node = self.node
        rows = [row for t in group for row in t.rows]
        try:
            node.store.insert_txs(rows)
        except SQLAlchemyError as exc:
            log.exception("storing %d accepted txs failed", len(rows))
            self._fail(group, type(exc).__name__)
            return
        node.durable_seq = max(node.durable_seq, rows[-1]["seq"])  # only this thread raises it
        for t in group:
            t.future.set_result(None)

    def _fail(self, group: list[Ticket], error: str) -> None:
        node = self.node
        with node.lock, self._cond:
            group = group + self._queue
            self._queue = []
            kept = [t for t in node.mempool.txs if t.seq <= node.durable_seq]
            dropped = node.mempool.txs[len(kept) :]
            node.mempool.drop_suffix(len(dropped))
            node.mempool.rebuild(node.head, node.admission_timestamp())
            node.next_seq = node.durable_seq + 1
            node.publish()
        for t in group:
            t.future.set_exception(
                api_error("storage_unavailable", f"the database refused the write: {error}")
            )
