"""What L1 says about a rollup, read back by anyone: every live batch re-derived from L1 data alone,
and the history of appends checked for a batch posted twice or an index skipped.

The replay is `l1_contracts.reader` and `protocol.derive`, the code every role runs; the tests and
the benchmarks call these functions rather than replaying on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from l1_contracts.bindings.bridge import Bridge
from l1_contracts.bindings.rollup import BatchAppended, BatchDeleted, Rollup
from l1_contracts.reader import L1Reader
from protocol.derive import Derivation, Derived, Verdict
from protocol.signing import Domain


class ReplayError(AssertionError):
    """L1's batches do not replay: a batch is not VALID, or the appends skip or repeat one. An
    AssertionError, so that a test calling the replay fails on it."""


def derive_from_l1(rollup: Rollup, bridge: Bridge, domain: Domain, from_block: int = 0) -> list[Derived]:
    """Every live batch of the Rollup derived from L1 data alone (nothing of any role's database),
    each with its verdict and honest result; `ReplayError` unless every one is VALID."""
    reader = L1Reader(rollup, bridge, from_block=from_block, confirmations=0)
    reader.poll()
    chain = Derivation(domain, reader.fees())  # the fee schedule the Rollup holds
    derived = chain.extend(reader.live_batches, reader.deposits)
    if len(derived) != rollup.batch_count():
        raise ReplayError(f"derived {len(derived)} batches, the Rollup holds {rollup.batch_count()}")
    bad = [(d.batch.index, d.verdict, d.reason) for d in derived if d.verdict is not Verdict.VALID]
    if bad:
        raise ReplayError(f"batches that do not replay to L1's roots: {bad}")
    return derived


def replay_from_l1(rollup: Rollup, bridge: Bridge, domain: Domain, from_block: int = 0) -> list[bytes]:
    """The post roots of `derive_from_l1`'s batches, all VALID."""
    return [d.batch.post_root for d in derive_from_l1(rollup, bridge, domain, from_block)]


@dataclass(frozen=True, slots=True)
class AppendHistory:
    """The Rollup's appends and deletions in L1 order: `appends` counts every `BatchAppended`,
    `deleted` every `BatchDeleted`, `live` the batches L1 holds now."""

    appends: int
    deleted: int
    live: int


def check_appends(rollup: Rollup, from_block: int = 0) -> AppendHistory:
    """`append_history` of the Rollup's `BatchAppended` and `BatchDeleted` events since `from_block`,
    which must leave as many live batches as the Rollup holds."""
    history = append_history(
        [*rollup.batches_appended(from_block), *rollup.batches_deleted(from_block)], rollup.genesis_root()
    )
    held = rollup.batch_count()
    if history.live != held:
        raise ReplayError(f"the events leave {history.live} live batches, the Rollup holds {held}")
    return history


def append_history(events: Sequence[BatchAppended | BatchDeleted], genesis: bytes) -> AppendHistory:
    """Walk appends and deletions in L1 order: every append must land at the next index (none
    skipped) on the root of the batch before it (`genesis` for the first), and no batch data may be
    appended again while its first append is live (none posted twice). `ReplayError` naming the
    first break."""
    ordered = sorted(events, key=lambda e: (e.block_number, e.log_index))
    live: list[BatchAppended] = []
    appends = deleted = 0
    for event in ordered:
        if isinstance(event, BatchDeleted):
            if event.index != len(live) - 1:
                raise ReplayError(
                    f"L1 block {event.block_number} deletes batch {event.index}, "
                    f"the last live one is {len(live) - 1}"
                )
            live.pop()
            deleted += 1
            continue
        appends += 1
        where = f"batch {event.index} (L1 block {event.block_number})"
        if event.index != len(live):
            raise ReplayError(f"{where} lands where batch {len(live)} should: an index skipped")
        if event.prev_root != (live[-1].post_root if live else genesis):
            raise ReplayError(f"{where} does not build on the batch before it")
        if any(batch.data_hash == event.data_hash for batch in live):
            raise ReplayError(f"{where} repeats the data of a live batch: posted twice")
        live.append(event)
    return AppendHistory(appends, deleted, len(live))
