"""The derivation of posted batches: what every role runs to check one (docs/spec.md section 10).

As the OP Stack's node and fault-proof program import one derive package, the sequencer (following
L1), the verifier (judging every batch) and the tests all call this code. It is pure: the L1 reader
(`l1_contracts.reader`) turns events and calldata into `PostedBatch` values and the confirmed deposit
queue, and `derive_batch` re-executes one batch on the state before it and judges the posted roots.

A batch is judged against the honest chain:

- `VALID`: it builds on the honest state and its post and trace roots are the honest ones.
- `WRONG_ROOTS`: it builds on the honest state but posts another post root or trace root. This is
  fraud: a challenge wins (`protocol.fraud.find_fraud` builds the proof once the trace is revealed).
- `UNDECODABLE`: the data does not decode, or its data hash is not what L1 recorded. L1 refuses such
  data at `appendBatch`, so a well-behaved L1 never yields one; the verifier treats it as fraud that
  only a challenge (and the proposer's reveal timeout) can settle.
- `OFF_CHAIN`: its previous root is not the honest post root of the batch before: it builds on a batch
  that is itself wrong, and goes when that one is proven wrong (L1 deletes every later batch).

After a wrong batch the honest chain goes on from the honest post state, so `Derivation` keeps it:
its `state` is always the honest state after the batches it has seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from protocol.codec import batch_data_hash, decode_batch
from protocol.deposits import Deposit
from protocol.errors import CodecError, ProtocolError
from protocol.fees import FeeSchedule
from protocol.signing import Domain
from protocol.state import State
from protocol.transition import BatchContext, BatchResult, apply_batch


class DerivationError(ProtocolError):
    """The inputs of a derivation are inconsistent (deposits missing or out of order, batches out of
    order): the caller's view of L1 is incomplete, not a batch's fault. Read L1 again."""


class Verdict(StrEnum):
    VALID = "valid"
    WRONG_ROOTS = "wrong_roots"
    UNDECODABLE = "undecodable"
    OFF_CHAIN = "off_chain"

    @property
    def is_fraud(self) -> bool:
        """Whether a challenge of the batch wins (an OFF_CHAIN batch goes with the one it builds on)."""
        return self in (Verdict.WRONG_ROOTS, Verdict.UNDECODABLE)


@dataclass(frozen=True, slots=True)
class PostedBatch:
    """A batch as L1 holds it: the `appendBatch` arguments and where it was logged.

    `deposit_start` is the cumulative deposit count of the batch before (0 for the first), so the
    batch consumes queue indices `deposit_start … deposit_end - 1`.
    """

    index: int
    data: bytes
    data_hash: bytes  # what L1 recorded (`BatchCodec.dataHash`)
    prev_root: bytes
    post_root: bytes
    trace_root: bytes
    deposit_start: int
    deposit_end: int
    proposer: str = ""
    l1_block: int = 0
    l1_tx_hash: bytes = b""
    l1_timestamp: int = 0

    @property
    def deposit_count(self) -> int:
        return self.deposit_end - self.deposit_start


@dataclass(frozen=True, slots=True)
class Derived:
    """One batch re-executed: the verdict and, when the data decoded, the honest result."""

    batch: PostedBatch
    verdict: Verdict
    result: BatchResult | None  # None for UNDECODABLE
    reason: str = ""

    @property
    def honest_post_root(self) -> bytes | None:
        return None if self.result is None else self.result.post_root


def consumed_deposits(batch: PostedBatch, queue: Sequence[Deposit]) -> list[Deposit]:
    """The deposits `batch` consumes, from the queue of confirmed deposits (index i at position i)."""
    if batch.deposit_end > len(queue):
        raise DerivationError(
            f"batch {batch.index} consumes deposits up to {batch.deposit_end}, but only {len(queue)} are "
            "known: the deposit queue was read short"
        )
    out = list(queue[batch.deposit_start : batch.deposit_end])
    for offset, deposit in enumerate(out):
        if deposit.index != batch.deposit_start + offset:
            raise DerivationError(
                f"the deposit queue has index {deposit.index} at {batch.deposit_start + offset}"
            )
    return out


def derive_batch(
    state: State, batch: PostedBatch, queue: Sequence[Deposit], domain: Domain, fees: FeeSchedule
) -> Derived:
    """Re-execute `batch` on the honest `state` before it and judge its posted roots, under the
    deployment's signing `domain` and fee schedule `fees` (both read from the Rollup)."""
    if batch.prev_root != state.root:
        return Derived(batch, Verdict.OFF_CHAIN, None, "its previous root is not the honest chain's")
    deposits = consumed_deposits(batch, queue)
    if deposits and deposits[0].index != state.meta().deposit_count:
        raise DerivationError(
            f"batch {batch.index} starts at deposit {deposits[0].index}, the state has consumed "
            f"{state.meta().deposit_count}"
        )
    try:
        header, txs = decode_batch(batch.data)
    except CodecError as exc:
        return Derived(batch, Verdict.UNDECODABLE, None, f"the batch data does not decode: {exc}")
    if batch_data_hash(header, txs) != batch.data_hash:
        return Derived(batch, Verdict.UNDECODABLE, None, "the batch data does not hash to L1's data hash")
    result = apply_batch(state, deposits, txs, BatchContext(domain, fees, header.timestamp))
    if result.post_root != batch.post_root or result.trace_root != batch.trace_root:
        wrong = "post root" if result.post_root != batch.post_root else "trace root"
        return Derived(batch, Verdict.WRONG_ROOTS, result, f"its {wrong} is not the honest one")
    return Derived(batch, Verdict.VALID, result)


class Derivation:
    """The honest chain as far as the batches pushed so far.

    `state` is the honest state after the last batch (its honest result, right or wrong); `derived`
    holds the verdicts of the batches from `base_index` on. `settle(index)` drops what is kept of
    batches up to `index` (L1 finalized them: no fraud proof can concern them again), so memory stays
    bounded by the batches still in their window. `rewind(index)` forgets batches from `index` on
    (L1 deleted them), never a settled one.
    """

    def __init__(
        self, domain: Domain, fees: FeeSchedule, genesis: State | None = None, *, base_index: int = 0
    ) -> None:
        self.domain = domain
        self.fees = fees
        self.base_index = base_index
        self.base_state = genesis if genesis is not None else State()
        self.derived: list[Derived] = []

    @property
    def state(self) -> State:
        for d in reversed(self.derived):
            if d.result is not None:
                return d.result.post_state
        return self.base_state

    @property
    def next_index(self) -> int:
        return self.base_index + len(self.derived)

    def get(self, index: int) -> Derived | None:
        """The derived batch `index`, if it is kept."""
        offset = index - self.base_index
        return self.derived[offset] if 0 <= offset < len(self.derived) else None

    def push(self, batch: PostedBatch, queue: Sequence[Deposit]) -> Derived:
        """Derive the next batch (its index must be `next_index`)."""
        if batch.index != self.next_index:
            raise DerivationError(f"batch {batch.index} given, batch {self.next_index} is next")
        out = derive_batch(self.state, batch, queue, self.domain, self.fees)
        self.derived.append(out)
        return out

    def extend(self, batches: Sequence[PostedBatch], queue: Sequence[Deposit]) -> list[Derived]:
        """Derive `batches` in order (the first must be `next_index`)."""
        return [self.push(batch, queue) for batch in batches]

    def rewind(self, index: int) -> None:
        """Forget the batches from `index` on."""
        if index < self.base_index:
            raise DerivationError(f"batch {index} is settled (final on L1): it cannot be rewound")
        del self.derived[index - self.base_index :]

    def settle(self, index: int) -> None:
        """Batches up to `index` are final: keep only the honest state after them."""
        keep = index + 1 - self.base_index
        if keep <= 0:
            return
        keep = min(keep, len(self.derived))
        if keep == 0:
            return
        state_after = self.base_state
        for d in self.derived[:keep]:
            if d.result is not None:
                state_after = d.result.post_state
        self.base_state = state_after
        self.base_index += keep
        del self.derived[:keep]

    def first_fraud(self) -> Derived | None:
        """The earliest kept batch a challenge would win against (None when all are valid)."""
        return next((d for d in self.derived if d.verdict.is_fraud), None)
