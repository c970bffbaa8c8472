"""The states after past batches, for proofs against their post roots (`Sequencer.state_at_batch`).

The post-states of the `kept` most recent batches stay in memory (`remember`); any other batch's,
back to the last final batch, is rebuilt from the current state and the undo entries of every later
batch, and checked against the batch's post root. A final batch drops the states before it
(`forget_before`); a rollback those from the first batch it undid (`forget_from`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from protocol.state import State
from sequencer.core.errors import SequencerError, api_error
from sequencer.db.models import BatchState
from sequencer.db.store import Store

SNAPSHOTS_KEPT = 64  # post-states of recent batches kept in memory for proofs


class BatchStates:
    """Post-states of batches: recent ones kept, older ones rebuilt from undo entries. Thread-safe:
    its own lock guards the kept states only, and is never held while a state is rebuilt."""

    def __init__(self, store: Store, kept: int = SNAPSHOTS_KEPT) -> None:
        self.store = store
        self.kept = kept
        self._lock = threading.Lock()
        self.snapshots: OrderedDict[int, State] = OrderedDict()

    def state_at(self, batch_id: int, head: Callable[[], State]) -> State:
        """The state after batch `batch_id` (sealed or later); `head()` is the current state, read
        once the kept states were looked up and before the undo entries are."""
        batch = self.store.batch(batch_id)
        if batch is None:
            raise api_error("not_found", f"there is no batch {batch_id}")
        if batch.status == BatchState.OPEN or batch.post_root is None:
            raise api_error("not_finalized", f"batch {batch_id} is still open: its post-state is not settled")
        with self._lock:
            cached = self.snapshots.get(batch_id)
        current = head()
        if cached is not None:
            return cached
        final = self.store.last_batch_with(BatchState.FINAL)
        if final is not None and batch_id < final.id:
            raise api_error(
                "not_found",
                f"batch {batch_id} is older than the last final batch {final.id}: proofs are served "
                "against the last final batch or later",
            )
        leaves = dict(current.leaves())
        # The undo entries are read after `head` was taken: a block committed in between adds
        # entries whose old values are `head`'s own, so applying them changes nothing.
        for _, key, prev in self.store.undo_after(batch_id):
            if prev is None:
                leaves.pop(key, None)
            else:
                leaves[key] = prev
        state = State.from_leaves(leaves.items())
        if state.root != batch.post_root:
            raise SequencerError(
                f"rebuilt state of batch {batch_id} has root 0x{state.root.hex()}, not its post root"
            )
        self.remember(batch_id, state)
        return state

    def remember(self, batch_id: int, state: State) -> None:
        """Keep `state` as batch `batch_id`'s post-state, dropping the oldest beyond `kept`."""
        with self._lock:
            self.snapshots[batch_id] = state
            self.snapshots.move_to_end(batch_id)
            while len(self.snapshots) > self.kept:
                self.snapshots.popitem(last=False)

    def forget_before(self, batch_id: int) -> None:
        """Batch `batch_id` is final: drop the states of older batches (no proofs against them)."""
        with self._lock:
            for old in [b for b in self.snapshots if b < batch_id]:
                del self.snapshots[old]

    def forget_from(self, batch_id: int) -> None:
        """Batches from `batch_id` on were rolled back: drop their states."""
        with self._lock:
            for old in [b for b in self.snapshots if b >= batch_id]:
                del self.snapshots[old]
