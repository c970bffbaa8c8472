"""Fuzzing every decoder of the protocol beyond what test_codec.py does: every integer field of every
tx type at and past its bounds (read from the codec's own table, `TX_FIELDS`, so a new field is
fuzzed as soon as it exists), mutated batch data, mutated witness bytes, deposits at their widths,
and mutated JSON forms of witnesses (`protocol.serialize`). Each input either decodes to a value
that encodes back to the very same input, or raises `CodecError`, never another exception."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.codec import (
    TX_FIELDS,
    Field,
    decode_batch,
    decode_tx,
    encode_batch,
    encode_tensor_field,
    encode_tx,
)
from protocol.deposits import Deposit, encode_deposit
from protocol.errors import CodecError
from protocol.serialize import unhx, witness_from_json, witness_to_json
from protocol.txs import SignedTx, Tx, TxType
from protocol.witness import StepWitness, build_witness, decode_witness, encode_witness
from tests.support.strategies import signed_txs
from tests.vectors.generate import scenario

INT_KINDS = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "u128": 16}


def _field_size(tx_type: TxType, f: Field, value: Any) -> int:
    """Bytes field `f` holding `value` takes in an encoded tx (docs/spec.md section 3)."""
    if f.kind in INT_KINDS:
        return INT_KINDS[f.kind]
    if f.kind == "tensor":
        return len(encode_tensor_field(tx_type, f, value))
    if f.kind == "b32list":
        return 1 + 32 * len(value)
    return {"addr": 20, "b32": 32}[f.kind]


def _offsets(tx: Tx) -> dict[str, int]:
    """Where each field of `tx` starts in its encoding (after the type byte)."""
    pos, out = 1, {}
    for f in TX_FIELDS[tx.TYPE]:
        out[f.attr] = pos
        pos += _field_size(tx.TYPE, f, getattr(tx, f.attr))
    return out


def _round_trips(raw: bytes) -> None:
    """`raw` decodes, and the decoded tx encodes to `raw` again."""
    decoded = decode_tx(raw)
    assert encode_tx(SignedTx(decoded.tx, decoded.r, decoded.s, decoded.v)) == raw


def _with(signed: SignedTx, attr: str, value: int) -> SignedTx:
    tx: Any = signed.tx
    return dataclasses.replace(signed, tx=dataclasses.replace(tx, **{attr: value}))


@given(signed_txs())
def test_every_integer_field_at_and_beyond_its_bounds(signed: SignedTx) -> None:
    tx = signed.tx
    raw = encode_tx(signed)
    offsets = _offsets(tx)
    for f in TX_FIELDS[tx.TYPE]:
        if f.kind not in INT_KINDS:
            continue
        width, at = INT_KINDS[f.kind], offsets[f.attr]

        def patched(value: int, width: int = width, at: int = at) -> bytes:
            return raw[:at] + value.to_bytes(width, "big") + raw[at + width :]

        for value in (f.lo, f.max):  # at its bounds: accepted both ways
            _round_trips(patched(value))
            assert encode_tx(_with(signed, f.attr, value))
        for value in (f.lo - 1, f.max + 1):  # past them: refused both ways, naming the field
            if 0 <= value <= f.type_max:  # a value the width holds but the protocol does not
                with pytest.raises(CodecError, match=f.attr):
                    decode_tx(patched(value))
            with pytest.raises(CodecError, match=f.attr):
                encode_tx(_with(signed, f.attr, value))


@st.composite
def mutations(draw: st.DrawFn, base: bytes) -> bytes:
    """`base` with bits flipped, bytes set, cut short or extended (one to three edits)."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 3))):
        edit = draw(st.sampled_from(["flip", "set", "cut", "insert"]))
        if edit in ("flip", "set") and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] = (
                data[i] ^ (1 << draw(st.integers(0, 7))) if edit == "flip" else draw(st.integers(0, 255))
            )
        elif edit == "cut" and data:
            del data[draw(st.integers(0, len(data) - 1)) :]
        else:
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@given(st.data())
def test_mutated_txs_are_refused_or_canonical(data: st.DataObject) -> None:
    raw = data.draw(signed_txs().map(encode_tx).flatmap(mutations))
    with contextlib.suppress(CodecError):
        _round_trips(raw)


@given(st.integers(0, 2**64 - 1), st.lists(st.binary(max_size=60), max_size=6), st.data())
def test_mutated_batches_are_refused_or_canonical(
    timestamp: int, txs: list[bytes], data: st.DataObject
) -> None:
    raw = data.draw(mutations(encode_batch(timestamp, txs)))
    try:
        header, framed = decode_batch(raw)
    except CodecError:
        return
    assert encode_batch(header.timestamp, framed) == raw


@pytest.fixture(scope="module")
def witnesses() -> list[StepWitness]:
    _, batches, _ = scenario()
    return [build_witness(result, s.index) for result in batches for s in result.steps]


@given(st.data())
def test_mutated_witnesses_are_refused_or_canonical(
    witnesses: list[StepWitness], data: st.DataObject
) -> None:
    raw = data.draw(st.sampled_from(witnesses).map(encode_witness).flatmap(mutations))
    try:
        decoded = decode_witness(raw)
    except CodecError:
        return
    assert encode_witness(decoded) == raw


@given(st.integers(-1, 2**64), st.integers(-1, 2**128), st.binary(min_size=19, max_size=21))
def test_deposit_fields_at_and_beyond_their_widths(index: int, amount: int, recipient: bytes) -> None:
    ok = 0 <= index < 2**64 and 0 <= amount < 2**128 and len(recipient) == 20
    d = Deposit(index, recipient, amount)
    if ok:
        assert len(encode_deposit(d)) == 44
    else:
        with pytest.raises(CodecError, match="Deposit"):
            encode_deposit(d)


# --- the JSON forms ------------------------------------------------------------------------------------

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**260),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["0x", "0x00", "0X" + "ab" * 32, "0x" + "AB" * 32, "0x" + "00" * 20, "٣", "1e3"]),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


@st.composite
def mutated_json(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """`value` with one leaf replaced by junk, one key dropped or added, or an integer moved by one."""
    if isinstance(value, dict) and value and depth < 6:
        key = draw(st.sampled_from(sorted(value)))
        choice = draw(st.sampled_from(["down", "drop", "add", "junk"]))
        out = dict(value)
        if choice == "down":
            out[key] = draw(mutated_json(value[key], depth + 1))
        elif choice == "drop":
            del out[key]
        elif choice == "add":
            out[draw(st.text(min_size=1, max_size=8))] = draw(JUNK)
        else:
            out[key] = draw(JUNK)
        return out
    if isinstance(value, list) and value and depth < 6:
        i = draw(st.integers(0, len(value) - 1))
        return [*value[:i], draw(mutated_json(value[i], depth + 1)), *value[i + 1 :]]
    if isinstance(value, int) and not isinstance(value, bool) and draw(st.booleans()):
        return value + draw(st.sampled_from([-1, 1, 2**32, 2**64]))
    return draw(JUNK)


def test_every_witness_json_round_trips(witnesses: list[StepWitness]) -> None:
    for w in witnesses:
        form = witness_to_json(w)
        assert witness_from_json(form) == w and witness_to_json(witness_from_json(form)) == form


@given(st.data())
def test_mutated_witness_json_is_refused_or_canonical(
    witnesses: list[StepWitness], data: st.DataObject
) -> None:
    form = data.draw(mutated_json(witness_to_json(data.draw(st.sampled_from(witnesses)))))
    try:
        w = witness_from_json(form)
    except CodecError:
        return
    assert witness_to_json(w) == form


@given(st.one_of(JUNK, st.binary(max_size=8).map(lambda b: "0x" + b.hex())))
def test_hex_text_is_lower_case_0x_or_refused(text: Any) -> None:
    try:
        data = unhx(text)
    except CodecError:
        return
    assert "0x" + data.hex() == text
