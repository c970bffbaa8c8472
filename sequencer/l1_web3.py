"""The L1 interfaces of `sequencer.l1` over web3 and the contract bindings: the Bridge's deposit
events followed with confirmations, and the Rollup driven with the proposer's key."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from web3 import HTTPProvider, Web3

from l1_contracts.bindings.bridge import Bridge
from l1_contracts.bindings.rollup import (
    GAS_FINALIZE_BASE,
    GAS_FINALIZE_PER_BATCH,
    BatchStatus,
    ChallengePhase,
    Rollup,
    append_batch_gas,
)
from l1_contracts.bindings.tx import Sender
from sequencer.l1 import BatchToPost, L1Deposit, OnChainBatch, PostedBatch

log = logging.getLogger("sequencer.l1")

LOG_RANGE = 5_000  # blocks per eth_getLogs request: public nodes cap the range
FINALIZE_MAX = 256  # batches one `finalize` transaction may finalize


def connect(url: str, timeout: float = 60.0) -> Web3:
    """A web3 client for the L1 JSON-RPC endpoint at `url`."""
    return Web3(HTTPProvider(url, request_kwargs={"timeout": timeout}))


class BridgeDeposits:
    """`DepositSource` over the Bridge's `Deposited` events.

    A deposit is returned once `confirmations` blocks sit on top of its block. Logs are scanned
    forward from `from_block` (the deployment's block) and kept until the sequencer has stored them,
    so each block range is read once. `bridge` may be a callable that finds the Bridge (from the
    Rollup) on first use, so that a service starts while its L1 is still down.
    """

    def __init__(
        self, bridge: Bridge | Callable[[], Bridge], *, confirmations: int, from_block: int = 0
    ) -> None:
        self._bridge = bridge
        self.confirmations = confirmations
        self._next_block = from_block
        self._seen: dict[int, L1Deposit] = {}

    @property
    def bridge(self) -> Bridge:
        if not isinstance(self._bridge, Bridge):
            self._bridge = self._bridge()
        return self._bridge

    def deposits_from(self, index: int) -> Sequence[L1Deposit]:
        """Confirmed deposits `index, index + 1, …` (stops at the first one not yet seen)."""
        safe = int(self.bridge.w3.eth.block_number) - self.confirmations
        while self._next_block <= safe:
            last = min(safe, self._next_block + LOG_RANGE - 1)
            for item in self.bridge.deposit_logs(self._next_block, last):
                self._seen[item.deposit.index] = L1Deposit(item.deposit, item.block_number, item.tx_hash)
            self._next_block = last + 1
        for old in [i for i in self._seen if i < index]:
            del self._seen[old]
        out = []
        while index in self._seen:
            out.append(self._seen[index])
            index += 1
        return out


class RollupPoster:
    """`BatchPoster` over the Rollup binding, sending as `sender` (the proposer)."""

    def __init__(self, rollup: Rollup, sender: Sender, *, from_block: int = 0) -> None:
        self.rollup = rollup
        self.sender = sender
        self.from_block = from_block  # where to look for BatchAppended events

    @property
    def w3(self) -> Web3:
        return self.rollup.w3

    @property
    def proposer(self) -> str:
        return self.sender.address

    def posted_count(self) -> int:
        return self.rollup.batch_count()

    def last_root(self) -> bytes:
        return self.rollup.last_root()

    def batch_roots(self, batch_id: int) -> tuple[bytes, bytes]:
        info = self.rollup.get_batch(batch_id)
        return info.data_hash, info.post_root

    def post(self, batch: BatchToPost) -> PostedBatch:
        receipt = self.rollup.append_batch(
            self.sender,
            batch.data,
            batch.prev_root,
            batch.post_root,
            batch.trace_root,
            batch.deposit_end,
            gas=append_batch_gas(batch.data),
        )
        return PostedBatch(
            batch.id, bytes(receipt["transactionHash"]), int(receipt["blockNumber"]), int(receipt["gasUsed"])
        )

    def onchain(self, batch_id: int) -> OnChainBatch:
        info = self.rollup.get_batch(batch_id)
        posted = None
        # The last append of this index is the live one (a deleted index is appended again).
        events = [e for e in self.rollup.batches_appended(self.from_block) if e.index == batch_id]
        if events:
            event = events[-1]
            receipt = self.w3.eth.get_transaction_receipt(event.tx_hash)  # type: ignore[arg-type]
            posted = PostedBatch(batch_id, event.tx_hash, event.block_number, int(receipt["gasUsed"]))
        return OnChainBatch(batch_id, info.data_hash, info.post_root, posted)

    def l1_time(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def ensure_bonded(self) -> bool:
        if self.rollup.bond_of(self.sender.address) > 0:
            return False
        amount = self.rollup.bond_amount()
        log.info("locking the proposer bond of %d wei for %s", amount, self.sender.address)
        self.rollup.bond(self.sender, value=amount)
        return True

    def finalized_count(self) -> int:
        return self.rollup.finalized_count()

    def challenge_phase(self, batch_id: int) -> ChallengePhase:
        return self.rollup.get_challenge(batch_id).phase

    def reveal(self, batch_id: int, step_hashes: Sequence[bytes]) -> PostedBatch:
        receipt = self.rollup.reveal_steps(self.sender, batch_id, list(step_hashes))
        return PostedBatch(
            batch_id, bytes(receipt["transactionHash"]), int(receipt["blockNumber"]), int(receipt["gasUsed"])
        )

    def finalize(self) -> int:
        # Which batches are past their window is judged by the clock as well as the latest block:
        # a devnet mines only when a transaction comes, so its latest block can be old, while the
        # block that includes `finalize` is stamped about now.
        now = max(self.l1_time(), int(time.time()))
        window = self.rollup.challenge_window()
        start, count = self.rollup.finalized_count(), self.rollup.batch_count()
        ready = 0
        while ready < FINALIZE_MAX and start + ready < count:
            info = self.rollup.get_batch(start + ready)
            if info.status != BatchStatus.PENDING or info.l1_timestamp + window > now:
                break
            ready += 1
        if ready:
            self.rollup.finalize(self.sender, ready, gas=GAS_FINALIZE_BASE + GAS_FINALIZE_PER_BATCH * ready)
        return self.rollup.finalized_count()
