"""Fuzzing the JSON form of txs (`sequencer.api.txjson`): every field of every tx type, read from the
codec's table (`TX_FIELDS`, so a new field is fuzzed as soon as it exists), at and past its bounds
and in every written form (a JSON number, decimal or 0x text; tensors as hex or lists), and random
values in any field. Each message either becomes the bytes of that very tx or is refused with an
`ApiError` naming the field, never another exception."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.codec import TX_FIELDS, Field, decode_tx, encode_tx
from protocol.signing import typed_data
from protocol.tensors import IntTensor
from protocol.txs import SignedTx, Tx
from sequencer.api.txjson import tx_from_json
from sequencer.core.errors import ApiError
from tests.support.domain import DOMAIN
from tests.support.strategies import txs

SIGNATURE = "0x" + "11" * 64 + "1b"


def message_of(tx: Tx) -> dict[str, Any]:
    """The EIP-712 message of `tx`, as a wallet writes it."""
    return dict(typed_data(DOMAIN, tx)["message"])


def encoded(tx: Tx) -> bytes:
    sig = bytes.fromhex(SIGNATURE[2:])
    return encode_tx(SignedTx(tx, int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), 27))


def refused_naming(name: str, type_name: str, message: dict[str, Any]) -> ApiError:
    with pytest.raises(ApiError) as info:
        tx_from_json(type_name, message, SIGNATURE)
    assert info.value.status in (400, 413, 422)
    assert name in info.value.message, info.value.message
    return info.value


def _int_forms(value: int) -> list[Any]:
    return [value, str(value), hex(value)] if value >= 0 else [value, str(value)]


@given(txs())
def test_every_field_at_and_beyond_its_bounds(tx: Tx) -> None:
    type_name = type(tx).__name__
    base = message_of(tx)
    assert tx_from_json(type_name, base, SIGNATURE) == encoded(tx)
    for f in TX_FIELDS[tx.TYPE]:
        name = f"message.{f.name}"
        if f.kind.startswith("u"):
            for value in (f.lo, f.max):
                for form in _int_forms(value):
                    raw = tx_from_json(type_name, {**base, f.name: form}, SIGNATURE)
                    assert getattr(decode_tx(raw).tx, f.attr) == value
            for value in (f.lo - 1, f.max + 1):
                for form in _int_forms(value):
                    refused_naming(name, type_name, {**base, f.name: form})
        elif f.kind == "tensor":
            _tensor_bounds(type_name, base, f, name)
        elif f.kind == "b32list":
            ok = tx_from_json(type_name, {**base, f.name: ["0x" + "ab" * 32] * f.hi}, SIGNATURE)
            assert len(getattr(decode_tx(ok).tx, f.attr)) == f.hi
            refused_naming(name, type_name, {**base, f.name: ["0x" + "ab" * 32] * (f.hi + 1)})
            refused_naming(name, type_name, {**base, f.name: ["0x" + "ab" * 31]})
        else:
            size = 20 if f.kind == "addr" else 32
            refused_naming(name, type_name, {**base, f.name: "0x" + "ab" * (size - 1)})
            refused_naming(name, type_name, {**base, f.name: "ab" * size})
        without = {k: v for k, v in base.items() if k != f.name}
        assert "missing" in refused_naming(name, type_name, without).message


def _tensor_bounds(type_name: str, base: dict[str, Any], f: Field, name: str) -> None:
    def shaped(v: int) -> list[Any]:
        return [v, -v] if f.rank == 1 else [[v, -v]]

    for form in (shaped(f.bound), shaped(0)):
        raw = tx_from_json(type_name, {**base, f.name: form}, SIGNATURE)
        expected = IntTensor.vector(form) if f.rank == 1 else IntTensor.matrix(form)
        assert getattr(decode_tx(raw).tx, f.attr) == expected
    refused_naming(name, type_name, {**base, f.name: shaped(f.bound + 1)})
    if f.rank == 2:
        refused_naming(name, type_name, {**base, f.name: [[1, 2], [3]]})  # ragged
        refused_naming(name, type_name, {**base, f.name: [1, 2]})  # not rank 2
    refused_naming(name, type_name, {**base, f.name: "0x02"})  # a truncated encoding


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**300),
    st.floats(),
    st.text(max_size=10),
    st.sampled_from(["0x", "0X1f", "0x" + "00" * 20, "0x" + "ab" * 32, "١٢", " 1", "1_000", "-0x1"]),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=3)), max_size=4),
    st.lists(st.lists(st.integers(-5, 5), max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@given(txs(), st.data())
def test_random_values_in_any_field(tx: Tx, data: st.DataObject) -> None:
    type_name = type(tx).__name__
    message = message_of(tx)
    fields = TX_FIELDS[tx.TYPE]
    for f in data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3)):
        key = data.draw(st.sampled_from([f.name, f.attr]))
        message.pop(f.name, None)
        message[key] = data.draw(JUNK)
    signature = data.draw(st.one_of(st.just(SIGNATURE), JUNK))
    try:
        raw = tx_from_json(type_name, message, signature)
    except ApiError as exc:
        assert exc.status in (400, 413, 422) and exc.message
        return
    decode_tx(raw)  # whatever was accepted is one canonical tx
