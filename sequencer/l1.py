"""What the sequencer needs from L1, as interfaces; the web3 implementations live with the bindings.

- A `DepositSource` yields the Bridge's deposits, confirmed, in queue order. The sequencer stores
  them (`Sequencer.ingest_deposits`) and the block builder consumes them at the start of a batch.
- A `BatchPoster` appends a sealed batch to the Rollup contract and reports its L1 transaction.
  The posting daemon (`sequencer.batcher`) takes the sealed batches in id order, reconciling with
  what L1 holds first so that a batch is never posted twice nor skipped, and records each one.
- An `L1Batches` reads the batches L1 holds and the deposit queue, from L1 data alone: the shared
  reader `l1_contracts.reader.L1Reader` is one. The follower (`sequencer.follower`) keeps the
  sequencer's chain in line with it.

All are synchronous (web3 is); the service calls them from worker threads. The web3
implementations are in `sequencer.l1_web3` and `l1_contracts.reader`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from l1_contracts.bindings.rollup import ChallengePhase as ChallengePhase  # L1's, re-exported
from l1_contracts.reader import L1Update
from protocol.deposits import Deposit
from protocol.derive import PostedBatch as L1Batch
from protocol.fees import FeeSchedule
from protocol.signing import Domain


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


@dataclass(frozen=True, slots=True)
class OnChainBatch:
    """What the Rollup holds for a batch index, with the transaction that appended it."""

    batch_id: int
    data_hash: bytes
    post_root: bytes
    posted: PostedBatch | None  # None when the appending transaction was not found in the logs


class BatchPoster(Protocol):
    """Appends batches to the Rollup contract with the proposer's key, and reads its progress."""

    @property
    def proposer(self) -> str:
        """The checksummed address batches are posted from."""
        ...

    def last_root(self) -> bytes:
        """The post root of the last batch L1 holds (the genesis root first): what the next batch
        must build on."""
        ...

    def batch_roots(self, batch_id: int) -> tuple[bytes, bytes]:
        """The data hash and post root L1 holds at `batch_id` (< `posted_count()`): a cheap check
        that the batch there is still the one recorded."""
        ...

    def posted_count(self) -> int:
        """How many batches the Rollup contract holds: the id of the next batch to post."""
        ...

    def post(self, batch: BatchToPost) -> PostedBatch:
        """Send `appendBatch` for `batch` (with gas set explicitly), wait for its receipt and return
        it; raise on a revert or a transport failure (the daemon retries with backoff)."""
        ...

    def onchain(self, batch_id: int) -> OnChainBatch:
        """What L1 holds at `batch_id` (< `posted_count()`), for reconciliation after a crash."""
        ...

    def l1_time(self) -> int:
        """The latest L1 block's timestamp: a batch whose L2 timestamp is later cannot be appended."""
        ...

    def ensure_bonded(self) -> bool:
        """Lock the proposer's bond if it is not locked; whether a bond transaction was sent."""
        ...

    def finalize(self) -> int:
        """Finalize every batch whose challenge window has passed (a transaction only when there is
        one); returns the Rollup's finalized count afterwards."""
        ...

    def finalized_count(self) -> int:
        """How many batches are final on L1."""
        ...

    def challenge_phase(self, batch_id: int) -> ChallengePhase:
        """Where the challenge of batch `batch_id` stands (NONE when it is not challenged)."""
        ...

    def reveal(self, batch_id: int, step_hashes: Sequence[bytes]) -> PostedBatch:
        """Answer a challenge with the batch's step hashes (`revealSteps`), gas set explicitly."""
        ...


class L1Batches(Protocol):
    """The batches L1 holds and its confirmed deposit queue, read forward from the deployment
    (`l1_contracts.reader.L1Reader`; docs/spec.md section 10)."""

    def poll(self, max_blocks: int | None = None) -> L1Update:
        """Read the confirmed blocks not read yet; the changes they hold, in L1 order."""
        ...

    @property
    def live_batches(self) -> list[L1Batch]:
        """The batches L1 holds as of the last poll, in index order, each with its data."""
        ...

    @property
    def deposits(self) -> list[Deposit]:
        """Every confirmed deposit so far, index i at position i."""
        ...

    def domain(self) -> Domain:
        """The deployment's signing domain, checked against the Rollup."""
        ...

    def fees(self) -> FeeSchedule:
        """The deployment's fee schedule, the Rollup's `feePrice` and `feeRecipient`."""
        ...

    def forget_data(self, below: int) -> None:
        """Drop the data of final batches below `below` (memory stays bounded)."""
        ...


def batch_to_post(row: BatchRowLike) -> BatchToPost:
    """The `appendBatch` arguments of a sealed batch row."""
    if row.data is None or row.data_hash is None or row.post_root is None or row.trace_root is None:
        raise ValueError(f"batch {row.id} is not sealed")
    return BatchToPost(
        row.id,
        row.timestamp,
        row.data,
        row.data_hash,
        row.tx_count,
        row.deposit_start,
        row.deposit_count,
        row.step_count,
        row.prev_root,
        row.post_root,
        row.trace_root,
    )


class BatchRowLike(Protocol):
    """The fields of a stored batch that `batch_to_post` reads (`sequencer.db.models.BatchRow`)."""

    id: int
    timestamp: int
    data: bytes | None
    data_hash: bytes | None
    tx_count: int
    deposit_start: int
    deposit_count: int
    step_count: int
    prev_root: bytes
    post_root: bytes | None
    trace_root: bytes | None
