"""The L1 reader every role shares: the live batches and the confirmed deposit queue, from L1 alone.

`L1Reader.poll()` scans the Rollup's and the Bridge's events forward, `confirmations` blocks deep,
and returns what changed since the last poll, in L1 order: batches appended (each with the batch data
read back from its `appendBatch` calldata, as `protocol.derive.PostedBatch`), batches deleted (a
proven fraud rolls back a batch and every later one; the indices are appended again), the finalized
count, and new deposits. A consumer applies the changes to its `protocol.derive.Derivation` in order.

Everything it returns comes from events and calldata; nothing from the sequencer. A batch whose data
cannot be read back (its transaction is not a direct `appendBatch` call, which the Rollup refuses
anyway) is returned with empty data, which derives as UNDECODABLE: a challenge settles it.

An L1 reorg deeper than `confirmations` shows as a changed hash of the last block scanned; the reader
then starts over from the deployment block and says so (`L1Update.reset`), and the consumer rebuilds.
Before a first scan and before starting over it checks that the Rollup's code is there: a chain
without it (the devnet restarted: it keeps its chain in memory) raises `RollupMissing` rather than
reading as a history without batches, which would make every role undo what it holds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from hexbytes import HexBytes
from web3 import Web3

from l1_contracts.bindings.bridge import Bridge
from l1_contracts.bindings.rollup import BatchAppended, BatchDeleted, Rollup
from l1_contracts.errors import CalldataUndecodable, L1Error
from protocol.deposits import Deposit
from protocol.derive import PostedBatch
from protocol.fees import FeeSchedule
from protocol.signing import Domain, address_from_hex

log = logging.getLogger("l1_contracts.reader")

LOG_RANGE = 5_000  # blocks per eth_getLogs request: public nodes cap the range


class RollupMissing(L1Error):
    """L1 holds no contract at the Rollup's address: another chain (a devnet restarted, which keeps
    its chain in memory, or a wrong RPC URL), not a history to follow."""


class DomainMismatch(L1Error):
    """The Rollup's domain separator is not the one this chain id and address give: another protocol
    version, or a contract that is not an mlrollup Rollup."""


def deployment_domain(rollup: Rollup) -> Domain:
    """The EIP-712 domain of L2 txs for the Rollup at `rollup.address`, checked against the contract's
    own `domainSeparator()`."""
    domain = Domain(int(rollup.w3.eth.chain_id), address_from_hex(rollup.address))
    onchain = rollup.domain_separator()
    if onchain != domain.separator:
        raise DomainMismatch(
            f"the Rollup at {rollup.address} has domain separator 0x{onchain.hex()}, this protocol "
            f"computes 0x{domain.separator.hex()}: not a Rollup of this protocol version"
        )
    return domain


def deployment_fees(rollup: Rollup) -> FeeSchedule:
    """The L2 fee schedule of the Rollup at `rollup.address`: its `feePrice` and `feeRecipient`
    immutables, what every role executes txs with and the one-step prover charges."""
    return FeeSchedule(rollup.fee_price(), address_from_hex(rollup.fee_recipient()))


@dataclass(frozen=True, slots=True)
class Appended:
    batch: PostedBatch


@dataclass(frozen=True, slots=True)
class Deleted:
    """Batch `index` was rolled back (L1 logs one per batch, the last first)."""

    index: int
    l1_block: int


L1Change = Appended | Deleted


@dataclass(frozen=True, slots=True)
class L1Update:
    """What one poll found, up to `safe_block`."""

    safe_block: int
    changes: tuple[L1Change, ...] = ()
    deposits: tuple[Deposit, ...] = ()  # new confirmed deposits, in queue order
    finalized_count: int = 0
    batch_count: int = 0  # live batches after the changes
    reset: bool = False  # a reorg was seen: everything returned before is void; this starts over


@dataclass
class _View:
    live: dict[int, PostedBatch] = field(default_factory=dict)
    deposits: list[Deposit] = field(default_factory=list)
    finalized_count: int = 0


class L1Reader:
    """Follows one deployment's Rollup and Bridge. Not thread-safe: one consumer polls it."""

    def __init__(
        self,
        rollup: Rollup,
        bridge: Bridge,
        *,
        from_block: int = 0,
        confirmations: int = 1,
    ) -> None:
        if confirmations < 0:
            raise ValueError("confirmations must be 0 or more")
        self.rollup = rollup
        self.bridge = bridge
        self.from_block = from_block
        self.confirmations = confirmations
        self._next_block = from_block
        self._last_hash: bytes | None = None
        self._view = _View()

    @classmethod
    def connect(
        cls,
        w3: Web3,
        rollup_address: str,
        *,
        from_block: int = 0,
        confirmations: int = 1,
    ) -> L1Reader:
        """A reader of the Rollup at `rollup_address` and the Bridge it names."""
        rollup = Rollup(w3, rollup_address)
        bridge = Bridge(w3, rollup.bridge_address())
        return cls(
            rollup,
            bridge,
            from_block=from_block,
            confirmations=confirmations,
        )

    @property
    def w3(self) -> Web3:
        return self.rollup.w3

    # --- the view so far ---------------------------------------------------------------------------

    @property
    def deposits(self) -> list[Deposit]:
        """Every confirmed deposit so far, index i at position i."""
        return self._view.deposits

    @property
    def live_batches(self) -> list[PostedBatch]:
        """The batches L1 holds as of the last poll, in index order (without their data below what
        `forget_data` was told)."""
        return [self._view.live[i] for i in range(len(self._view.live))]

    def forget_data(self, below: int) -> None:
        """Drop the batch data of live batches `0 … below - 1`, which the consumer has derived and
        which are final (no proof can concern them again): a long-running role's memory then stays
        bounded by the batches still in their window. Their roots and deposit counts stay."""
        for index in range(min(below, self._view.finalized_count)):
            batch = self._view.live.get(index)
            if batch is not None and batch.data:
                self._view.live[index] = replace(batch, data=b"")

    @property
    def finalized_count(self) -> int:
        return self._view.finalized_count

    @property
    def scanned_to(self) -> int:
        """The last block scanned (`from_block - 1` before the first poll)."""
        return self._next_block - 1

    def domain(self) -> Domain:
        return deployment_domain(self.rollup)

    def fees(self) -> FeeSchedule:
        return deployment_fees(self.rollup)

    # --- polling -----------------------------------------------------------------------------------

    def poll(self, max_blocks: int | None = None) -> L1Update:
        """Scan the confirmed blocks not scanned yet (at most `max_blocks` of them) and return the
        changes they hold."""
        head = int(self.w3.eth.block_number)
        safe = head - self.confirmations
        reset = self._reorged()
        if reset or self._last_hash is None:
            # A chain without the Rollup would read as a history with no batches: every consumer
            # would undo what it holds. Refuse to read one (the view stays as it was).
            self._check_rollup()
        if reset:
            log.warning("L1 reorganised below block %d: reading the deployment again", self.scanned_to)
            self._next_block, self._last_hash, self._view = self.from_block, None, _View()
        if max_blocks is not None:
            safe = min(safe, self._next_block + max_blocks - 1)
        changes: list[L1Change] = []
        deposits: list[Deposit] = []
        while self._next_block <= safe:
            last = min(safe, self._next_block + LOG_RANGE - 1)
            c, d = self._scan(self._next_block, last)
            changes += c
            deposits += d
            self._next_block = last + 1
            self._last_hash = bytes(self.w3.eth.get_block(last)["hash"])
        return L1Update(
            safe_block=self.scanned_to,
            changes=tuple(changes),
            deposits=tuple(deposits),
            finalized_count=self._view.finalized_count,
            batch_count=len(self._view.live),
            reset=reset,
        )

    def _check_rollup(self) -> None:
        if not self.w3.eth.get_code(Web3.to_checksum_address(self.rollup.address)):
            raise RollupMissing(
                f"L1 at block {self.w3.eth.block_number} has no contract at the Rollup's address "
                f"{self.rollup.address}: another chain than the deployment's (a devnet restarted, "
                "which keeps its chain in memory, or a wrong L1 URL); nothing read from it"
            )

    def _reorged(self) -> bool:
        if self._last_hash is None or self.scanned_to < 0:
            return False
        return bytes(self.w3.eth.get_block(self.scanned_to)["hash"]) != self._last_hash

    def _scan(self, first: int, last: int) -> tuple[list[L1Change], list[Deposit]]:
        view = self._view
        deposits = []
        for item in self.bridge.deposit_logs(first, last):
            if item.deposit.index != len(view.deposits):
                raise L1Error(
                    f"the Bridge logged deposit {item.deposit.index} where {len(view.deposits)} is next"
                )
            view.deposits.append(item.deposit)
            deposits.append(item.deposit)
        events: list[tuple[int, int, Any]] = []
        events += [(e.block_number, e.log_index, e) for e in self.rollup.batches_appended(first, last)]
        events += [(e.block_number, e.log_index, e) for e in self.rollup.batches_deleted(first, last)]
        events += [(e.block_number, e.log_index, e) for e in self.rollup.batches_finalized(first, last)]
        changes: list[L1Change] = []
        for block, _, event in sorted(events, key=lambda x: (x[0], x[1])):
            if isinstance(event, BatchAppended):
                batch = self._posted(event)
                view.live[batch.index] = batch
                changes.append(Appended(batch))
            elif isinstance(event, BatchDeleted):
                view.live.pop(event.index, None)
                changes.append(Deleted(event.index, block))
            else:
                view.finalized_count = max(view.finalized_count, event.index + 1)
        return changes, deposits

    def _posted(self, event: BatchAppended) -> PostedBatch:
        previous = self._view.live.get(event.index - 1)
        if event.index > 0 and previous is None:
            raise L1Error(f"the Rollup logged batch {event.index} before batch {event.index - 1}")
        return PostedBatch(
            index=event.index,
            data=self._batch_data(event),
            data_hash=event.data_hash,
            prev_root=event.prev_root,
            post_root=event.post_root,
            trace_root=event.trace_root,
            deposit_start=0 if previous is None else previous.deposit_end,
            deposit_end=event.deposit_count,
            proposer=event.proposer,
            l1_block=event.block_number,
            l1_tx_hash=event.tx_hash,
            l1_timestamp=event.l1_timestamp,
        )

    def _batch_data(self, event: BatchAppended) -> bytes:
        """The `batchData` argument of the transaction that logged `event`, or b"" when that
        transaction is not a direct `appendBatch` call of this Rollup."""
        tx: Any = self.w3.eth.get_transaction(HexBytes(event.tx_hash))
        if tx.get("to") is None or Web3.to_checksum_address(str(tx["to"])) != self.rollup.address:
            log.warning("batch %d was appended by a call through another contract", event.index)
            return b""
        try:
            name, params = self.rollup.decode_call(bytes(tx["input"]))
        except CalldataUndecodable:
            return b""
        if name != "appendBatch":
            return b""
        return bytes(params["batchData"])
