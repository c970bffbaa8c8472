"""Where the bytes go: every L2 tx of the bench's posted batches split by field (signature, header,
tensors, the other fields), the L1 gas each tx pays (its share by bytes of its batch's
`appendBatch` receipt) against the calldata floor (16 gas a non-zero byte, 4 a zero byte) and
Prague's EIP-7623 floor (10 gas a token) of its bytes, and the fixed cost of a batch."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.gas.floors import TX_BASE_GAS, calldata_cost, floor_7623, share_by_bytes
from bench.gas.l1 import PostedBatch
from protocol.codec import SIGNATURE_BYTES, TX_FIELDS, decode_tx, encode_tensor_field
from protocol.txs import TxType

FRAMING = 3  # the u24 length of each tx in the batch data
HEADER = 1 + 8  # type and nonce
BATCH_HEADER = 1 + 8 + 4  # version, timestamp, tx count
FIELDS = ("signature", "header", "tensors", "other")
FULL_BATCH = 1_000


def fields_of(tx: bytes) -> dict[str, int]:
    """A tx's framed bytes by field: signature, header (type, nonce, the batch's u24 length), its
    tensors (rank, dims, width, elements) and the other fields."""
    signed = decode_tx(tx)
    kind = TxType(tx[0])
    tensors = sum(
        len(encode_tensor_field(kind, f, getattr(signed.tx, f.attr)))
        for f in TX_FIELDS[kind]
        if f.kind == "tensor"
    )
    header = HEADER + FRAMING
    other = FRAMING + len(tx) - SIGNATURE_BYTES - header - tensors
    return {"signature": SIGNATURE_BYTES, "header": header, "tensors": tensors, "other": other}


@dataclass
class TypeStats:
    """Every tx of one type across the batches."""

    name: str
    count: int = 0
    bytes_by_field: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    gas: float = 0.0  # appendBatch share by bytes
    calldata: int = 0  # 16/4 floor of the framed bytes
    floor: int = 0  # EIP-7623 floor of the framed bytes
    full_batch_gas: float = 0.0  # the same in batches of at least FULL_BATCH txs
    full_batch_floor: int = 0
    full_batch_count: int = 0

    @property
    def bytes(self) -> int:
        return sum(self.bytes_by_field.values())

    def per_tx(self, total: float) -> float:
        return total / self.count if self.count else 0.0


@dataclass
class WhereBytes:
    types: list[TypeStats]
    batches: int
    txs: int
    fixed_cost: float  # appendBatch of a one-tx batch, less 21,000 and the batch data's calldata cost
    fixed_cost_batches: int
    finalize_per_batch: float
    full_batches: int
    full_batch_rows: list[tuple[str, int, int, int]]  # (tx types, txs, appendBatch gas, Σ floors)

    def share_of_fields(self) -> dict[str, float]:
        total = sum(t.bytes for t in self.types)
        return {f: sum(t.bytes_by_field[f] for t in self.types) / total for f in FIELDS}

    def full_batch_ratio(self) -> dict[str, float]:
        """Gas per tx over its EIP-7623 floor, by type, in the batches of 1,000 txs or more."""
        return {t.name: t.full_batch_gas / t.full_batch_floor for t in self.types if t.full_batch_count}


def analyse(batches: Sequence[PostedBatch]) -> WhereBytes:
    stats: dict[int, TypeStats] = {}
    fixed = []
    rows = []
    for batch in batches:
        sizes = [FRAMING + len(tx) for tx in batch.txs]
        shares = share_by_bytes(batch.append_gas, sizes)
        full = len(batch.txs) >= FULL_BATCH
        for tx, share in zip(batch.txs, shares, strict=True):
            s = stats.setdefault(tx[0], TypeStats(TxType(tx[0]).name))
            s.count += 1
            for name, n in fields_of(tx).items():
                s.bytes_by_field[name] += n
            framed = len(tx).to_bytes(3, "big") + tx
            s.gas += share
            s.calldata += calldata_cost(framed)
            s.floor += floor_7623(framed)
            if full:
                s.full_batch_gas += share
                s.full_batch_floor += floor_7623(framed)
                s.full_batch_count += 1
        if full:
            names = "+".join(sorted({TxType(t[0]).name for t in batch.txs}))
            floors = sum(floor_7623(len(t).to_bytes(3, "big") + t) for t in batch.txs)
            rows.append((names, len(batch.txs), batch.append_gas, floors))
        if len(batch.txs) == 1:
            fixed.append(batch.append_gas - TX_BASE_GAS - calldata_cost(batch.data))
    return WhereBytes(
        [stats[k] for k in sorted(stats)],
        len(batches),
        sum(len(b.txs) for b in batches),
        statistics.median(fixed) if fixed else 0.0,
        len(fixed),
        statistics.mean(b.finalize_gas for b in batches) if batches else 0.0,
        sum(len(b.txs) >= FULL_BATCH for b in batches),
        rows,
    )
