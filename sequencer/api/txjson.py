"""Txs written as JSON: the EIP-712 `message` of a tx type plus its signature, to canonical bytes.

Field names are the EIP-712 ones (`commitDeadline`, `taskId`; the snake_case attribute names are
accepted too), exactly what `protocol.signing.typed_data` produces, so a wallet's typed-data
document can be sent as it is. Integers are JSON numbers or strings (decimal or 0x hex; amounts
above 2^53 should be strings), addresses and bytes32 0x hex, tensors either 0x hex of their
encoding (the EIP-712 `bytes` value) or nested lists of ints, a `bytes32[]` a list of 0x hex.
Everything is checked with the codec's own table and ranges (`protocol.codec.TX_FIELDS`).
"""

from __future__ import annotations

import re
from typing import Any

from protocol.codec import TX_FIELDS, Field, encode_tx
from protocol.encoding import Reader
from protocol.errors import CodecError
from protocol.params import MAX_TENSOR_DIM, MAX_TENSOR_ELEMENTS
from protocol.signing import address_from_hex
from protocol.tensors import IntTensor, decode_tensor
from protocol.txs import TX_CLASSES, SignedTx, TxType
from sequencer.core.errors import ApiError, api_error

_INT_TEXT = re.compile(r"0[xX][0-9a-fA-F]{1,64}|[0-9]{1,78}")
TYPE_NAMES: dict[str, TxType] = {cls.__name__: t for t, cls in TX_CLASSES.items()}


def _invalid(name: str, message: str) -> ApiError:
    return api_error("invalid_field", f"{name}: {message}", field=name)


def parse_hex(text: Any, name: str, size: int | None = None) -> bytes:
    """`0x` hex to bytes; `invalid_hex` naming `name` unless it is (`size` bytes of) hex."""
    if not isinstance(text, str) or text[:2] not in ("0x", "0X"):
        raise api_error("invalid_hex", f"{name}: expected a 0x-prefixed hex string", field=name)
    try:
        data = bytes.fromhex(text[2:])
    except ValueError:
        raise api_error("invalid_hex", f"{name}: {text[:80]!r} is not hex", field=name) from None
    if size is not None and len(data) != size:
        raise api_error("invalid_hex", f"{name}: expected {size} bytes, got {len(data)}", field=name)
    return data


def parse_address(text: Any, name: str) -> bytes:
    """A `0x` address (a mixed-case one with its EIP-55 checksum); `invalid_hex` or `bad_checksum`."""
    if not isinstance(text, str) or text[:2] not in ("0x", "0X"):
        raise api_error("invalid_hex", f"{name}: expected a 0x-prefixed address string", field=name)
    try:
        return address_from_hex(text)
    except ValueError as exc:
        # A mixed-case address with a wrong EIP-55 checksum is well-formed hex, most likely mistyped.
        code = "bad_checksum" if "checksum" in str(exc) else "invalid_hex"
        raise api_error(code, f"{name}: {exc}", field=name) from None


def _int(value: Any, name: str, f: Field) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _invalid(name, "expected an integer (a JSON number, or a decimal or 0x string)")
    if isinstance(value, str):
        if not _INT_TEXT.fullmatch(value):
            raise _invalid(name, f"{value[:80]!r} is not a decimal or 0x-hex integer")
        number = int(value, 16) if value[:2] in ("0x", "0X") else int(value, 10)
    else:
        number = value
    if not f.lo <= number <= f.max:
        raise _invalid(name, f"{number} is outside [{f.lo}, {f.max}]")
    return number


def _tensor(value: Any, name: str, f: Field) -> IntTensor:
    if isinstance(value, str):
        data = parse_hex(value, name)
        reader = Reader(data)
        try:
            tensor = decode_tensor(reader, rank=f.rank, bound=f.bound, field=name)
            reader.finish(name)
        except CodecError as exc:
            code = "tensor_too_large" if "MAX_TENSOR" in str(exc) else "invalid_field"
            raise api_error(code, str(exc), field=name) from None
        return tensor
    if not isinstance(value, list):
        raise _invalid(name, "expected a tensor: 0x hex of its encoding, or a list (of lists) of ints")
    if f.rank == 1:
        rows: list[Any] = [value]
    else:
        rows = value
        if not all(isinstance(row, list) for row in rows):
            raise _invalid(name, "expected a rank-2 tensor: a list of rows, each a list of ints")
    n_cols = len(rows[0]) if rows else 0
    dims = [len(value)] if f.rank == 1 else [len(rows), n_cols]
    if any(d > MAX_TENSOR_DIM for d in dims) or sum(len(r) for r in rows) > MAX_TENSOR_ELEMENTS:
        raise api_error(
            "tensor_too_large",
            f"{name}: shape {dims} exceeds MAX_TENSOR_ELEMENTS {MAX_TENSOR_ELEMENTS} "
            f"or MAX_TENSOR_DIM {MAX_TENSOR_DIM}",
            field=name,
        )
    for row in rows:
        if len(row) != n_cols:
            raise _invalid(name, "ragged rows: every row needs the same length")
        for v in row:
            if isinstance(v, bool) or not isinstance(v, int):
                raise _invalid(name, f"element {v!r} is not an integer")
            if not -f.bound <= v <= f.bound:
                raise _invalid(name, f"element {v} is outside [-{f.bound}, {f.bound}]")
    return IntTensor.vector(value) if f.rank == 1 else IntTensor.matrix(rows, n_cols)


def tx_from_json(type_name: str, message: dict[str, Any], signature: str) -> bytes:
    """The canonical signed-tx bytes of a typed tx; `ApiError` naming the first bad field."""
    tx_type = TYPE_NAMES.get(type_name)
    if tx_type is None:
        raise api_error(
            "invalid_field", f"type: {type_name!r} is not a tx type ({', '.join(TYPE_NAMES)})", field="type"
        )
    fields = TX_FIELDS[tx_type]
    known = {f.name for f in fields} | {f.attr for f in fields}
    unknown = sorted(set(message) - known)
    if unknown:
        raise _invalid(f"message.{unknown[0]}", f"{type_name} has no field {unknown[0]!r}")
    values: dict[str, Any] = {}
    for f in fields:
        name = f"message.{f.name}"
        value = message.get(f.name, message.get(f.attr))
        if value is None:
            raise _invalid(name, "missing")
        if f.kind == "addr":
            values[f.attr] = parse_address(value, name)
        elif f.kind == "b32":
            values[f.attr] = parse_hex(value, name, 32)
        elif f.kind == "tensor":
            values[f.attr] = _tensor(value, name, f)
        elif f.kind == "b32list":
            if not isinstance(value, list) or len(value) > f.hi:
                raise _invalid(name, f"expected a list of at most {f.hi} 0x bytes32 strings")
            values[f.attr] = tuple(parse_hex(item, f"{name}[{i}]", 32) for i, item in enumerate(value))
        else:
            values[f.attr] = _int(value, name, f)
    sig = parse_hex(signature, "signature", 65)
    v = sig[64]
    if v in (0, 1):
        v += 27
    tx = TX_CLASSES[tx_type](**values)
    try:
        return encode_tx(SignedTx(tx, int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), v))
    except CodecError as exc:
        if "MAX_TX_BYTES" in str(exc):
            raise api_error("tx_too_large", str(exc)) from None
        if "MAX_TENSOR" in str(exc):
            raise api_error("tensor_too_large", str(exc)) from None
        raise api_error("invalid_field", str(exc)) from None
