"""Canonical encoding of signed transactions and batch data (docs/spec.md sections 3 and 4).

A signed tx is `u8 type ‖ body ‖ r(32) ‖ s(32) ‖ v(u8)`; `TX_FIELDS` lists each type's body fields
in order with their widths and ranges, and is the one table both the codec and `protocol.signing`
(the EIP-712 struct types) read. The decoder is strict: every way bytes can differ from what
`encode_tx` produces raises `CodecError`, so `encode_tx(decode_tx(b)) == b` for every accepted `b`.
The encoder applies the same checks, so everything it returns decodes.

Ranges checked here are exactly those of section 3 (integer widths, `arch`, `nFeatures`,
`learningRate`, tensor ranks, sizes and element bounds, `v`, `MAX_TX_BYTES`). Consistency between
fields (e.g. labels having as many rows as features) is a transaction rule of section 6, checked at
execution, not a decoding error. Neither are `r`/`s` ranges: those make a signature invalid
(`protocol.signing.recover_sender`), not the encoding.

Solidity twins: `l1_contracts/src/libraries/BatchCodec.sol` (batch framing) and
`l1_contracts/src/prover/TxCodec.sol` (`decode_tx`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from protocol.encoding import Reader, Writer
from protocol.errors import CodecError
from protocol.hashing import keccak, merkle_proof, merkle_root
from protocol.params import (
    ELEMENT_MAX,
    MAX_BATCH_TXS,
    MAX_RANGE_PROOF,
    MAX_TX_BYTES,
    PROTOCOL_VERSION,
    SHARED_LR_MAX,
    SHARED_MAX_FEATURES,
    SHARED_W_MAX,
    SHARED_X_MAX,
)
from protocol.tensors import IntTensor, decode_tensor, encode_tensor
from protocol.txs import TX_CLASSES, SignedTx, Tx, TxType

# --- the field table ------------------------------------------------------------------------

_UINT_SIZES = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "u128": 16}
_BYTES_SIZES = {"addr": 20, "b32": 32}
_SOL_TYPES = {
    "u8": "uint8",
    "u16": "uint16",
    "u32": "uint32",
    "u64": "uint64",
    "u128": "uint128",
    "addr": "address",
    "b32": "bytes32",
    "tensor": "bytes",
    "b32list": "bytes32[]",
}


@dataclass(frozen=True, slots=True)
class Field:
    """One body field: its attribute, spec (EIP-712) name, kind and range.

    `kind` is `u8 u16 u32 u64 u128` (unsigned, `lo ≤ value ≤ hi`), `addr`, `b32`, `tensor` (of `rank`,
    elements in `[-bound, bound]`) or `b32list` (`u8 count ‖ b32 × count`, at most `hi` of them; EIP-712
    `bytes32[]`).
    """

    attr: str
    name: str
    kind: str
    lo: int = 0
    hi: int = -1  # -1: the full range of the width
    rank: int = 0
    bound: int = 0

    @property
    def sol_type(self) -> str:
        return _SOL_TYPES[self.kind]

    @property
    def type_max(self) -> int:
        """Largest value of the field's integer width (what EIP-712 accepts)."""
        return (1 << (8 * _UINT_SIZES[self.kind])) - 1

    @property
    def max(self) -> int:
        """Largest value the codec accepts."""
        return self.type_max if self.hi < 0 else self.hi


def _u(attr: str, name: str, kind: str, lo: int = 0, hi: int = -1) -> Field:
    return Field(attr, name, kind, lo, hi)


def _t(attr: str, rank: int, bound: int) -> Field:
    return Field(attr, attr, "tensor", rank=rank, bound=bound)


_NONCE = _u("nonce", "nonce", "u64")

_BODY_FIELDS: dict[TxType, tuple[Field, ...]] = {
    TxType.TRANSFER: (_NONCE, Field("to", "to", "addr"), _u("amount", "amount", "u128")),
    TxType.WITHDRAW: (_NONCE, Field("recipient", "recipient", "addr"), _u("amount", "amount", "u128")),
    TxType.CREATE_TASK: (
        _NONCE,
        _u("arch", "arch", "u8", 1, 3),
        _u("inputs", "inputs", "u16"),
        _u("hidden", "hidden", "u16"),
        _u("outputs", "outputs", "u16"),
        _u("reward", "reward", "u128"),
        _u("commit_deadline", "commitDeadline", "u64"),
        _u("reveal_deadline", "revealDeadline", "u64"),
        Field("test_commitment", "testCommitment", "b32"),
        Field("train_data_ref", "trainDataRef", "b32"),
    ),
    TxType.COMMIT_MODEL: (_NONCE, _u("task_id", "taskId", "u64"), Field("commitment", "commitment", "b32")),
    TxType.REVEAL_TEST_SET: (
        _NONCE,
        _u("task_id", "taskId", "u64"),
        Field("salt", "salt", "b32"),
        _u("n_test", "nTest", "u32"),
        Field("test_root", "testRoot", "b32"),
        _u("first_chunk", "firstChunk", "u32"),
        _t("features", 2, ELEMENT_MAX),
        _t("labels", 1, ELEMENT_MAX),
        Field("proof", "proof", "b32list", hi=MAX_RANGE_PROOF),
    ),
    TxType.REVEAL_MODEL: (
        _NONCE,
        _u("task_id", "taskId", "u64"),
        Field("salt", "salt", "b32"),
        _t("weights", 1, ELEMENT_MAX),
    ),
    TxType.FINALIZE_TASK: (_NONCE, _u("task_id", "taskId", "u64")),
    TxType.CREATE_MODEL: (
        _NONCE,
        _u("n_features", "nFeatures", "u8", 1, SHARED_MAX_FEATURES),
        _u("learning_rate", "learningRate", "u32", 0, SHARED_LR_MAX),
        _t("weights", 1, SHARED_W_MAX),
    ),
    TxType.ADD_DATA: (
        _NONCE,
        _u("model_id", "modelId", "u64"),
        _t("xs", 2, SHARED_X_MAX),
        _t("ys", 1, SHARED_X_MAX),
    ),
    TxType.TRAIN: (_NONCE, _u("model_id", "modelId", "u64"), _u("epochs", "epochs", "u32")),
}

# Every type's last field: the most wei a fee unit may cost the sender (docs/spec.md section 6, "Fees").
_MAX_FEE_PRICE = _u("max_fee_price", "maxFeePrice", "u64")

TX_FIELDS: dict[TxType, tuple[Field, ...]] = {
    t: (*fields, _MAX_FEE_PRICE) for t, fields in _BODY_FIELDS.items()
}

# Signature trailer: r(32) ‖ s(32) ‖ v(1).
SIGNATURE_BYTES = 65


def _qualified(tx_type: TxType, f: Field) -> str:
    return f"{TX_CLASSES[tx_type].__name__}.{f.attr}"


# --- encoding ---------------------------------------------------------------------------------


def _write_field(w: Writer, tx_type: TxType, f: Field, value: Any) -> None:
    name = _qualified(tx_type, f)
    kind = f.kind
    if kind in _UINT_SIZES:
        if not isinstance(value, int) or not f.lo <= value <= f.max:
            raise CodecError(f"{name}: {value!r} is outside [{f.lo}, {f.max}]")
        w.raw(value.to_bytes(_UINT_SIZES[kind], "big"))
    elif kind == "tensor":
        w.raw(encode_tensor_field(tx_type, f, value))
    elif kind == "b32list":
        if not isinstance(value, tuple | list) or len(value) > f.hi:
            raise CodecError(f"{name}: expected at most {f.hi} hashes")
        w.u8(len(value), name)
        for item in value:
            w.fixed(item, 32, name)
    else:
        if not isinstance(value, bytes):
            raise CodecError(f"{name}: expected bytes, got {type(value).__name__}")
        w.fixed(value, _BYTES_SIZES[kind], name)


def encode_tensor_field(tx_type: TxType, f: Field, value: IntTensor) -> bytes:
    """The encoding of tensor field `f` of a `tx_type` tx (also its EIP-712 `bytes` value)."""
    return encode_tensor(value, f.bound, rank=f.rank, field=_qualified(tx_type, f))


def encode_unsigned_body(tx: Tx) -> bytes:
    """`u8 type ‖ body`: the encoded tx without its signature."""
    tx_type = tx.TYPE
    w = Writer()
    w.u8(tx_type)
    for f in TX_FIELDS[tx_type]:
        _write_field(w, tx_type, f, getattr(tx, f.attr))
    return w.getvalue()


def encode_tx(signed: SignedTx) -> bytes:
    """The canonical bytes of a signed tx; `CodecError` when a field is out of range or it is too long."""
    if signed.v not in (27, 28):
        raise CodecError(f"signature v = {signed.v}, must be 27 or 28")
    for label, value in (("r", signed.r), ("s", signed.s)):
        if not isinstance(value, int) or not 0 <= value < 1 << 256:
            raise CodecError(f"signature {label} = {value!r} does not fit in 32 bytes")
    data = (
        encode_unsigned_body(signed.tx)
        + signed.r.to_bytes(32, "big")
        + signed.s.to_bytes(32, "big")
        + bytes((signed.v,))
    )
    if len(data) > MAX_TX_BYTES:
        raise CodecError(f"encoded tx of {len(data)} bytes exceeds MAX_TX_BYTES = {MAX_TX_BYTES}")
    return data


# --- decoding ---------------------------------------------------------------------------------


_UINT, _BYTES, _TENSOR, _B32LIST = 0, 1, 2, 3

# Per type byte: the class and, per field, (qualified name, kind code, size, lo, hi, field).
_PLANS: dict[int, tuple[type[Tx], tuple[tuple[str, int, int, int, int, Field], ...]]] = {
    int(tx_type): (
        TX_CLASSES[tx_type],
        tuple(
            (
                _qualified(tx_type, f),
                _UINT
                if f.kind in _UINT_SIZES
                else _TENSOR
                if f.kind == "tensor"
                else _B32LIST
                if f.kind == "b32list"
                else _BYTES,
                _UINT_SIZES.get(f.kind) or _BYTES_SIZES.get(f.kind, 0),
                f.lo,
                f.max if f.kind in _UINT_SIZES else f.hi if f.kind == "b32list" else 0,
                f,
            )
            for f in fields
        ),
    )
    for tx_type, fields in TX_FIELDS.items()
}


def decode_tx(data: bytes | bytearray | memoryview) -> SignedTx:
    """Decode one signed tx, strictly (docs/spec.md section 3); `CodecError` on any deviation.

    The result caches `data` (as `bytes`) as its `encoded` bytes.
    """
    encoded = bytes(data)
    size = len(encoded)
    if size > MAX_TX_BYTES:
        raise CodecError(f"encoded tx of {size} bytes exceeds MAX_TX_BYTES = {MAX_TX_BYTES}")
    if not size:
        raise CodecError("empty tx")
    plan = _PLANS.get(encoded[0])
    if plan is None:
        raise CodecError(f"unknown tx type {encoded[0]}")
    cls, steps = plan
    values: list[Any] = []
    pos = 1
    for name, code, width, lo, hi, f in steps:
        if code == _TENSOR:
            reader = Reader(encoded, pos)
            values.append(decode_tensor(reader, rank=f.rank, bound=f.bound, field=name))
            pos = reader.pos
            continue
        if code == _B32LIST:
            if pos >= size:
                raise CodecError(f"{name}: needs 1 byte at offset {pos}, none left")
            count = encoded[pos]
            if count > hi:
                raise CodecError(f"{name}: {count} hashes exceed {hi}")
            end = pos + 1 + 32 * count
            if end > size:
                left = size - pos - 1
                raise CodecError(f"{name}: needs {32 * count} bytes at offset {pos + 1}, only {left} left")
            values.append(tuple(encoded[i : i + 32] for i in range(pos + 1, end, 32)))
            pos = end
            continue
        end = pos + width
        if end > size:
            raise CodecError(f"{name}: needs {width} bytes at offset {pos}, only {size - pos} left")
        if code == _UINT:
            value = int.from_bytes(encoded[pos:end], "big")
            if not lo <= value <= hi:
                raise CodecError(f"{name}: {value} is outside [{lo}, {hi}]")
            values.append(value)
        else:
            values.append(encoded[pos:end])
        pos = end
    if size - pos != SIGNATURE_BYTES:
        if size - pos < SIGNATURE_BYTES:
            raise CodecError(f"signature: needs 65 bytes at offset {pos}, only {size - pos} left")
        raise CodecError(f"signed tx: {size - pos - SIGNATURE_BYTES} trailing bytes")
    v = encoded[-1]
    if v != 27 and v != 28:
        raise CodecError(f"signature v = {v}, must be 27 or 28")
    sig_r = int.from_bytes(encoded[pos : pos + 32], "big")
    sig_s = int.from_bytes(encoded[pos + 32 : pos + 64], "big")
    return SignedTx.with_encoding(cls(*values), sig_r, sig_s, v, encoded)


# --- batches ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchHeader:
    version: int
    timestamp: int
    tx_count: int


def encode_batch(timestamp: int, txs: Sequence[bytes]) -> bytes:
    """Batch data: `u8 version ‖ u64 timestamp ‖ u32 txCount ‖ (u24 length ‖ tx bytes) × txCount`."""
    if len(txs) > MAX_BATCH_TXS:
        raise CodecError(f"{len(txs)} txs exceed MAX_BATCH_TXS = {MAX_BATCH_TXS}")
    w = Writer().u8(PROTOCOL_VERSION, "version").u64(timestamp, "timestamp").u32(len(txs), "txCount")
    for i, tx in enumerate(txs):
        if len(tx) > MAX_TX_BYTES:
            raise CodecError(f"tx {i}: {len(tx)} bytes exceed MAX_TX_BYTES = {MAX_TX_BYTES}")
        w.u24(len(tx), f"tx {i} length").raw(bytes(tx))
    return w.getvalue()


def decode_batch(data: bytes | bytearray | memoryview) -> tuple[BatchHeader, list[bytes]]:
    """Split batch data into its header and each tx's raw bytes (framing only: the txs are not decoded).

    Framing errors (version, count, lengths, trailing bytes) raise `CodecError`; a tx whose bytes do not
    decode is left for execution, where it is a failed step.
    """
    r = Reader(data)
    version = r.u8("batch version")
    if version != PROTOCOL_VERSION:
        raise CodecError(f"batch version {version}, expected {PROTOCOL_VERSION}")
    timestamp = r.u64("batch timestamp")
    count = r.u32("batch txCount")
    if count > MAX_BATCH_TXS:
        raise CodecError(f"batch txCount {count} exceeds MAX_BATCH_TXS = {MAX_BATCH_TXS}")
    txs: list[bytes] = []
    for i in range(count):
        length = r.u24(f"tx {i} length")
        if length > MAX_TX_BYTES:
            raise CodecError(f"tx {i}: length {length} exceeds MAX_TX_BYTES = {MAX_TX_BYTES}")
        txs.append(r.take(length, f"tx {i} bytes"))
    r.finish("batch data")
    return BatchHeader(version, timestamp, count), txs


def tx_leaves(txs: Sequence[bytes]) -> list[bytes]:
    """The tx-root leaves: `H(tx_i)` (each tx's id)."""
    return [keccak(bytes(tx)) for tx in txs]


def tx_root(txs: Sequence[bytes]) -> bytes:
    """`merkle_root([H(tx_i)])`."""
    return merkle_root(tx_leaves(txs))


def tx_inclusion_proof(txs: Sequence[bytes], index: int) -> list[bytes]:
    """The list proof of tx `index` (leaf `H(tx)`) against `tx_root(txs)`, bottom first."""
    return merkle_proof(tx_leaves(txs), index)


def batch_data_hash_from_root(header: BatchHeader, root: bytes) -> bytes:
    """`H(u8 version ‖ u64 timestamp ‖ u32 txCount ‖ txRoot)`."""
    w = Writer().u8(header.version, "version").u64(header.timestamp, "timestamp")
    return keccak(w.u32(header.tx_count, "txCount").b32(root, "txRoot").getvalue())


def batch_data_hash(header: BatchHeader, txs: Sequence[bytes]) -> bytes:
    """The hash L1 stores for a batch (docs/spec.md section 4)."""
    if header.tx_count != len(txs):
        raise CodecError(f"header counts {header.tx_count} txs, got {len(txs)}")
    return batch_data_hash_from_root(header, tx_root(txs))
