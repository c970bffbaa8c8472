"""What the sequencer needs from L1, as interfaces; the web3 implementations live with the bindings.

- A `DepositSource` yields the Bridge's deposits, confirmed, in queue order. The sequencer stores
  them (`Sequencer.ingest_deposits`) and the block builder consumes them at the start of a batch.
- A `BatchPoster` appends a sealed batch to the Rollup contract and reports its L1 transaction.
  The posting daemon takes `Sequencer.batches_to_post()`, posts them in id order (reconciling
  with `posted_count()` on start so a batch is never posted twice nor skipped) and records each
  with `Sequencer.record_posted`.

Both are synchronous (web3 is); the service calls them from worker threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from protocol.deposits import Deposit


@dataclass(frozen=True, slots=True)
class L1Deposit:
    """A deposit of the Bridge's queue and where L1 recorded it."""

    deposit: Deposit
    l1_block: int
    l1_tx_hash: bytes | None = None


class DepositSource(Protocol):
    """The Bridge's deposit queue, as far as it is confirmed."""

    def deposits_from(self, index: int) -> Sequence[L1Deposit]:
        """Confirmed deposits with queue index `index`, `index + 1`, … in order (none when there are
        no new ones). A deposit is confirmed once `deposit_confirmations` L1 blocks sit on top of the
        block that emitted it, so a reorg shallower than that never changes what was returned."""
        ...


@dataclass(frozen=True, slots=True)
class BatchToPost:
    """A sealed batch: everything `appendBatch` needs (docs/spec.md sections 4 and 5).

    `deposit_count` deposits are consumed, from queue index `deposit_start`; the contract checks
    them against its rolling hash. `id` is the batch's index in the Rollup contract (from 0).
    """

    id: int
    timestamp: int
    data: bytes  # `encode_batch(timestamp, txs)`
    data_hash: bytes  # `batch_data_hash`: what L1 stores for the data
    tx_count: int
    deposit_start: int
    deposit_count: int
    step_count: int
    prev_root: bytes
    post_root: bytes
    trace_root: bytes

    @property
    def deposit_end(self) -> int:
        """Deposits consumed by the end of this batch: `appendBatch`'s cumulative `depositCount`."""
        return self.deposit_start + self.deposit_count


@dataclass(frozen=True, slots=True)
class PostedBatch:
    """Where L1 recorded a batch, and what it cost."""

    batch_id: int
    l1_tx_hash: bytes
    l1_block: int
    gas_used: int


class BatchPoster(Protocol):
    """Appends batches to the Rollup contract with the proposer's key."""

    def posted_count(self) -> int:
        """How many batches the Rollup contract holds: the id of the next batch to post."""
        ...

    def post(self, batch: BatchToPost) -> PostedBatch:
        """Send `appendBatch` for `batch` (with gas set explicitly), wait for its receipt and return
        it; raise on a revert or a transport failure (the daemon retries with backoff)."""
        ...
