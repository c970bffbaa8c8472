"""Typed binding of the Rollup contract (`l1_contracts/src/rollup/Rollup.sol`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3.types import TxReceipt

from l1_contracts.bindings.tx import BoundContract, Sender
from protocol.codec import decode_batch
from protocol.errors import CodecError
from protocol.params import MAX_BATCH_TXS

# Gas limits that cover the calls with a margin (measured on py-evm, Prague).
GAS_BOND = 100_000
GAS_UNBOND = 100_000
GAS_FINALIZE_BASE = 60_000
GAS_FINALIZE_PER_BATCH = (
    25_000  # measured about 14k: two cold batch slots, the status, the counter, the event
)


def append_batch_gas(batch_data: bytes) -> int:
    """A gas limit that covers `appendBatch(batch_data, …)` with a margin of 20%.

    The larger of two measured bounds: execution (21k base, about 200k of fixed cost for six new
    storage slots, two Bridge calls and the event, about 350 gas a tx for the framing, the tx hashes
    and the tx root, 16/4 gas a non-zero/zero calldata byte, memory for the largest tx and the tx
    hashes) and the EIP-7623 calldata floor of Prague (10 gas a token, 4 tokens a non-zero byte).
    """
    size = len(batch_data)
    nonzero = size - batch_data.count(0)
    zero = size - nonzero
    abi_overhead = 8 * 32  # selector, five head words, the length, padding: mostly zero bytes
    floor = 21_000 + 10 * (4 * nonzero + zero + 4 * 32 + abi_overhead)
    try:
        _, txs = decode_batch(batch_data)
        count, biggest = len(txs), max((len(t) for t in txs), default=0)
    except CodecError:  # it will revert; leave room for the parse up to the error
        count, biggest = MAX_BATCH_TXS, size
    words = (biggest + 31) // 32 + count + 64
    memory = 3 * words + words * words // 512
    execution = 230_000 + 450 * count + 9 * ((size + 31) // 32) + memory
    standard = 21_000 + 16 * nonzero + 4 * zero + 16 * 4 * 32 + 4 * abi_overhead + execution
    return max(floor, standard) * 6 // 5


class BatchStatus(IntEnum):
    PENDING = 0
    FINALIZED = 1
    DELETED = 2


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """`getBatch(i)`: what the Rollup stores for batch `index`."""

    index: int
    data_hash: bytes
    post_root: bytes
    trace_root: bytes
    deposit_rolling_hash: bytes
    deposit_count: int
    l2_timestamp: int
    l1_timestamp: int
    status: BatchStatus
    proposer: str


@dataclass(frozen=True, slots=True)
class BatchAppended:
    """A `BatchAppended` event, where it was logged and the transaction that carries the batch data."""

    index: int
    proposer: str
    data_hash: bytes
    prev_root: bytes
    post_root: bytes
    trace_root: bytes
    deposit_count: int
    deposit_rolling_hash: bytes
    l2_timestamp: int
    l1_timestamp: int
    tx_count: int
    tx_root: bytes
    block_number: int
    tx_hash: bytes
    log_index: int


@dataclass(frozen=True, slots=True)
class BatchFinalized:
    index: int
    post_root: bytes
    block_number: int
    tx_hash: bytes


@dataclass(frozen=True, slots=True)
class BatchDeleted:
    index: int
    post_root: bytes
    block_number: int
    tx_hash: bytes


class Rollup(BoundContract):
    """The Rollup at `address`. Views return typed values; sends take a `Sender` and a gas limit."""

    ARTIFACT = "Rollup"

    # --- parameters ----------------------------------------------------------------------------

    def bridge_address(self) -> str:
        return str(self._call("bridge"))

    def genesis_root(self) -> bytes:
        return bytes(self._call("genesisRoot"))

    def bond_amount(self) -> int:
        return int(self._call("bondAmount"))

    def challenge_window(self) -> int:
        return int(self._call("challengeWindow"))

    # --- state ---------------------------------------------------------------------------------

    def bond_of(self, proposer: str) -> int:
        return int(self._call("bondOf", to_checksum_address(proposer)))

    def pending_batches_of(self, proposer: str) -> int:
        return int(self._call("pendingBatchesOf", to_checksum_address(proposer)))

    def batch_count(self) -> int:
        return int(self._call("batchCount"))

    def finalized_count(self) -> int:
        return int(self._call("finalizedCount"))

    def get_batch(self, index: int) -> BatchInfo:
        """Batch `index` (`NoSuchBatch` at or past `batch_count()`)."""
        b = self._call("getBatch", index)
        return BatchInfo(
            index=index,
            data_hash=bytes(b[0]),
            post_root=bytes(b[1]),
            trace_root=bytes(b[2]),
            deposit_rolling_hash=bytes(b[3]),
            deposit_count=int(b[4]),
            l2_timestamp=int(b[5]),
            l1_timestamp=int(b[6]),
            status=BatchStatus(int(b[7])),
            proposer=str(b[8]),
        )

    def prev_root_of(self, index: int) -> bytes:
        return bytes(self._call("prevRootOf", index))

    def is_finalized(self, index: int) -> bool:
        return bool(self._call("isFinalized", index))

    def finalized_root(self, index: int) -> bytes:
        """Post root of finalized batch `index` (`BatchNotFinalized` otherwise)."""
        return bytes(self._call("finalizedRoot", index))

    def last_root(self) -> bytes:
        return bytes(self._call("lastRoot"))

    def last_finalized_root(self) -> bytes:
        return bytes(self._call("lastFinalizedRoot"))

    def finalizable(self, max_batches: int = 2**256 - 1) -> int:
        """How many batches `finalize(max_batches)` would finalize now."""
        return int(self._call("finalizable", max_batches))

    # --- transactions --------------------------------------------------------------------------

    def bond(self, sender: Sender, *, gas: int = GAS_BOND, value: int | None = None) -> TxReceipt:
        """Lock the bond (`value` defaults to `bond_amount()`)."""
        amount = self.bond_amount() if value is None else value
        return self._send(sender, "bond", [], gas=gas, value=amount)

    def unbond(self, sender: Sender, *, gas: int = GAS_UNBOND) -> TxReceipt:
        return self._send(sender, "unbond", [], gas=gas)

    def append_batch(
        self,
        sender: Sender,
        batch_data: bytes,
        prev_root: bytes,
        post_root: bytes,
        trace_root: bytes,
        deposit_count: int,
        *,
        gas: int,
    ) -> TxReceipt:
        """Post a batch; `gas` is explicit (`append_batch_gas(batch_data)` is a safe limit)."""
        args = [batch_data, prev_root, post_root, trace_root, deposit_count]
        return self._send(sender, "appendBatch", args, gas=gas)

    def finalize(self, sender: Sender, max_batches: int = 256, *, gas: int | None = None) -> TxReceipt:
        """Finalize up to `max_batches` batches whose window has passed. Without `gas`, the limit is
        sized to the batches `finalizable(max_batches)` reports now."""
        if gas is None:
            gas = GAS_FINALIZE_BASE + GAS_FINALIZE_PER_BATCH * max(1, self.finalizable(max_batches))
        return self._send(sender, "finalize", [max_batches], gas=gas)

    # --- events --------------------------------------------------------------------------------

    def batches_appended(self, from_block: int = 0, to_block: int | str = "latest") -> list[BatchAppended]:
        out = []
        for log in self._logs("BatchAppended", from_block, to_block):
            a = log["args"]
            out.append(
                BatchAppended(
                    index=int(a["index"]),
                    proposer=str(a["proposer"]),
                    data_hash=bytes(a["dataHash"]),
                    prev_root=bytes(a["prevRoot"]),
                    post_root=bytes(a["postRoot"]),
                    trace_root=bytes(a["traceRoot"]),
                    deposit_count=int(a["depositCount"]),
                    deposit_rolling_hash=bytes(a["depositRollingHash"]),
                    l2_timestamp=int(a["l2Timestamp"]),
                    l1_timestamp=int(a["l1Timestamp"]),
                    tx_count=int(a["txCount"]),
                    tx_root=bytes(a["txRoot"]),
                    block_number=int(log["blockNumber"]),
                    tx_hash=bytes(log["transactionHash"]),
                    log_index=int(log["logIndex"]),
                )
            )
        return out

    def batches_finalized(self, from_block: int = 0, to_block: int | str = "latest") -> list[BatchFinalized]:
        return [
            BatchFinalized(
                int(log["args"]["index"]),
                bytes(log["args"]["postRoot"]),
                int(log["blockNumber"]),
                bytes(log["transactionHash"]),
            )
            for log in self._logs("BatchFinalized", from_block, to_block)
        ]

    def batches_deleted(self, from_block: int = 0, to_block: int | str = "latest") -> list[BatchDeleted]:
        return [
            BatchDeleted(
                int(log["args"]["index"]),
                bytes(log["args"]["postRoot"]),
                int(log["blockNumber"]),
                bytes(log["transactionHash"]),
            )
            for log in self._logs("BatchDeleted", from_block, to_block)
        ]

    def batch_data(self, tx_hash: bytes) -> bytes:
        """The batch data of the `appendBatch` transaction `tx_hash` (sent straight to this contract)."""
        tx: Any = self.w3.eth.get_transaction(HexBytes(tx_hash))
        _, params = self.contract.decode_function_input(tx["input"])
        return bytes(params["batchData"])
