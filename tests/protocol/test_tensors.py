"""Tensor codec, IntTensor and the byte reader/writer (docs/spec.md section 3, "Tensor")."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.encoding import Reader, Writer
from protocol.errors import CodecError
from protocol.hashing import keccak
from protocol.params import ELEMENT_MAX, MAX_TENSOR_DIM, MAX_TENSOR_ELEMENTS, SHARED_W_MAX, SHARED_X_MAX
from protocol.tensors import (
    IntTensor,
    as_tensor,
    canonical_i32,
    decode_tensor,
    element_width,
    encode_tensor,
    weights_hash,
)
from tests.support.strategies import int_tensors

BOUNDS = (ELEMENT_MAX, SHARED_X_MAX, SHARED_W_MAX)


def _header(rank: int, dims: tuple[int, ...], width: int) -> bytes:
    return bytes([rank]) + b"".join(d.to_bytes(4, "big") for d in dims) + bytes([width])


def _decode(data: bytes, rank: int, bound: int = ELEMENT_MAX) -> IntTensor:
    r = Reader(data)
    t = decode_tensor(r, rank=rank, bound=bound, field="t")
    r.finish()
    return t


# --- round trips ------------------------------------------------------------------------------------


@given(st.data(), st.sampled_from([1, 2]), st.sampled_from(BOUNDS))
def test_round_trip(data: st.DataObject, rank: int, bound: int) -> None:
    t = data.draw(int_tensors(rank, bound))
    enc = encode_tensor(t, bound, rank=rank)
    assert _decode(enc, rank, bound) == t
    width = enc[1 + 4 * rank]
    assert width == (element_width(min(t.values), max(t.values)) if t.values else 1)
    assert len(enc) == 2 + 4 * rank + width * t.size


@given(int_tensors(2, ELEMENT_MAX))
def test_decode_from_memoryview_at_offset(t: IntTensor) -> None:
    enc = encode_tensor(t, ELEMENT_MAX)
    r = Reader(memoryview(b"xyz" + enc + b"tail"), 3)
    assert decode_tensor(r, rank=2, bound=ELEMENT_MAX, field="t") == t
    assert r.remaining == 4


@pytest.mark.parametrize(
    ("value", "width"),
    [
        (0, 1),
        (127, 1),
        (-128, 1),
        (128, 2),
        (-129, 2),
        (32767, 2),
        (-32768, 2),
        (32768, 4),
        (-32769, 4),
        (2**31 - 1, 4),
        (-(2**31), 4),
        (2**31, 8),
        (-(2**31) - 1, 8),
        (SHARED_W_MAX, 8),
        (-SHARED_W_MAX, 8),
    ],
)
def test_minimal_width(value: int, width: int) -> None:
    enc = encode_tensor([1, value, -1], SHARED_W_MAX)
    assert enc[5] == width
    assert enc[6:] == struct.pack(f">3{'bhiq'[[1, 2, 4, 8].index(width)]}", 1, value, -1)
    assert _decode(enc, 1, SHARED_W_MAX).values == (1, value, -1)


def test_exact_bytes() -> None:
    assert encode_tensor([], ELEMENT_MAX) == bytes([1, 0, 0, 0, 0, 1])
    assert encode_tensor(IntTensor.matrix([], 3), ELEMENT_MAX) == bytes([2, 0, 0, 0, 0, 0, 0, 0, 3, 1])
    assert encode_tensor([[1, -2], [3, 300]], ELEMENT_MAX) == (
        bytes([2, 0, 0, 0, 2, 0, 0, 0, 2, 2]) + bytes.fromhex("0001fffe0003012c")
    )


def test_largest_tensor_round_trips() -> None:
    t = IntTensor((MAX_TENSOR_ELEMENTS // 8, 8), tuple(range(-64, 64)) * (MAX_TENSOR_ELEMENTS // 128))
    assert _decode(encode_tensor(t, ELEMENT_MAX), 2) == t
    long = IntTensor.vector([ELEMENT_MAX] * MAX_TENSOR_ELEMENTS)
    assert _decode(encode_tensor(long, ELEMENT_MAX), 1) == long


# --- rejections ---------------------------------------------------------------------------------------


def test_rejects_rank_mismatch_and_bad_rank() -> None:
    enc = encode_tensor([1, 2], ELEMENT_MAX)
    with pytest.raises(CodecError, match="rank"):
        _decode(enc, 2)
    with pytest.raises(CodecError, match="rank"):
        _decode(encode_tensor([[1, 2]], ELEMENT_MAX), 1)
    for bad_rank in (0, 3, 255):
        with pytest.raises(CodecError, match="rank"):
            _decode(bytes([bad_rank]) + enc[1:], 1)
    with pytest.raises(CodecError, match="rank"):
        encode_tensor([1, 2], ELEMENT_MAX, rank=2)


def test_rejects_dims() -> None:
    with pytest.raises(CodecError, match="MAX_TENSOR_DIM"):
        _decode(_header(1, (MAX_TENSOR_DIM + 1,), 1), 1)
    with pytest.raises(CodecError, match="MAX_TENSOR_DIM"):
        _decode(_header(2, (1, 2**32 - 1), 1), 2)
    # Each dim is fine, the product overflows the element limit: rejected before reading any element.
    with pytest.raises(CodecError, match="MAX_TENSOR_ELEMENTS"):
        _decode(_header(2, (MAX_TENSOR_DIM, MAX_TENSOR_DIM), 1), 2)
    with pytest.raises(CodecError, match="MAX_TENSOR_ELEMENTS"):
        _decode(_header(1, (MAX_TENSOR_ELEMENTS + 1,), 1) + bytes(MAX_TENSOR_ELEMENTS + 1), 1)
    with pytest.raises(CodecError, match="MAX_TENSOR_ELEMENTS"):
        encode_tensor([0] * (MAX_TENSOR_ELEMENTS + 1), ELEMENT_MAX)
    with pytest.raises(CodecError, match="MAX_TENSOR_DIM"):
        encode_tensor(IntTensor.matrix([], MAX_TENSOR_DIM + 1), ELEMENT_MAX)


@pytest.mark.parametrize("width", [0, 3, 5, 6, 7, 9, 16, 255])
def test_rejects_bad_width(width: int) -> None:
    with pytest.raises(CodecError, match="width"):
        _decode(_header(1, (2,), width) + bytes(2 * width), 1)


def test_rejects_non_minimal_width() -> None:
    with pytest.raises(CodecError, match="minimal"):
        _decode(_header(1, (2,), 2) + struct.pack(">2h", 1, -128), 1)
    with pytest.raises(CodecError, match="minimal"):
        _decode(_header(1, (1,), 4) + struct.pack(">i", 32767), 1)
    with pytest.raises(CodecError, match="minimal"):
        _decode(_header(1, (1,), 8) + struct.pack(">q", -(2**31)), 1, SHARED_W_MAX)
    for width in (2, 4, 8):  # an empty tensor has width 1
        with pytest.raises(CodecError, match="minimal"):
            _decode(_header(1, (0,), width), 1)
        with pytest.raises(CodecError, match="minimal"):
            _decode(_header(2, (0, 5), width), 2)


def test_rejects_out_of_bound_elements() -> None:
    for value in (ELEMENT_MAX + 1, -ELEMENT_MAX - 1, 2**31 - 1):
        with pytest.raises(CodecError, match="exceeds"):
            _decode(_header(1, (1,), 4) + struct.pack(">i", value), 1)
        with pytest.raises(CodecError, match="exceeds"):
            encode_tensor([value], ELEMENT_MAX)
    assert _decode(_header(1, (2,), 4) + struct.pack(">2i", ELEMENT_MAX, -ELEMENT_MAX), 1).values == (
        ELEMENT_MAX,
        -ELEMENT_MAX,
    )
    with pytest.raises(CodecError, match="exceeds"):
        _decode(encode_tensor([SHARED_X_MAX + 1], SHARED_W_MAX), 1, SHARED_X_MAX)


def test_cached_encoding_does_not_bypass_checks() -> None:
    t = _decode(encode_tensor([SHARED_X_MAX], SHARED_W_MAX), 1, SHARED_W_MAX)
    assert encode_tensor(t, SHARED_X_MAX) == encode_tensor(IntTensor.vector([SHARED_X_MAX]), SHARED_X_MAX)
    with pytest.raises(CodecError, match="exceeds"):
        encode_tensor(t, SHARED_X_MAX - 1)
    with pytest.raises(CodecError, match="rank"):
        encode_tensor(t, SHARED_X_MAX, rank=2)
    assert t == IntTensor.vector([SHARED_X_MAX]) and hash(t) == hash(IntTensor.vector([SHARED_X_MAX]))
    with pytest.raises(CodecError, match="ints"):
        encode_tensor(IntTensor((1,), (0.5,)), ELEMENT_MAX)  # type: ignore[arg-type]


def test_rejects_every_truncation_and_trailing_byte() -> None:
    enc = encode_tensor([[1, 2, 3], [4, 5, 600]], ELEMENT_MAX)
    for cut in range(len(enc)):
        with pytest.raises(CodecError):
            _decode(enc[:cut], 2)
    with pytest.raises(CodecError, match="trailing"):
        _decode(enc + b"\x00", 2)


@given(st.binary(max_size=40))
def test_arbitrary_bytes_only_raise_codec_error(data: bytes) -> None:
    for rank in (1, 2):
        try:
            t = _decode(data, rank)
        except CodecError:
            continue
        assert encode_tensor(t, ELEMENT_MAX, rank=rank) == data


# --- IntTensor ----------------------------------------------------------------------------------------


def test_int_tensor_helpers() -> None:
    m = IntTensor.matrix([[1, 2, 3], [4, 5, 6]])
    assert m.shape == (2, 3) and m.values == (1, 2, 3, 4, 5, 6) and m.rank == 2 and m.size == 6
    assert m.rows() == [(1, 2, 3), (4, 5, 6)]
    assert IntTensor.matrix([], 4).shape == (0, 4)
    assert as_tensor([[1], [2]]) == IntTensor((2, 1), (1, 2))
    assert as_tensor([]) == IntTensor((0,), ())
    assert as_tensor(m) is m
    assert IntTensor([2], [1, 2]) == IntTensor.vector([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        IntTensor((2, 2), (1, 2, 3))
    with pytest.raises(ValueError):
        IntTensor((1, 1, 1), (1,))
    with pytest.raises(ValueError):
        IntTensor.matrix([[1, 2], [3]])
    with pytest.raises(ValueError):
        IntTensor.vector([1]).rows()
    assert hash(m) == hash(IntTensor.matrix([[1, 2, 3], [4, 5, 6]]))


def test_torch_conversion() -> None:
    torch = pytest.importorskip("torch")
    m = IntTensor.matrix([[1, -2], [3, SHARED_W_MAX]])
    t = m.to_torch()
    assert t.dtype == torch.int64 and tuple(t.shape) == (2, 2)
    assert t.tolist() == [[1, -2], [3, SHARED_W_MAX]]
    assert IntTensor.from_torch(t) == m
    assert IntTensor.vector([]).to_torch().shape == (0,)


def test_canonical_i32_and_weights_hash() -> None:
    values = [0, 1, -1, ELEMENT_MAX, -(2**31), 2**31 - 1]
    expected = b"".join(v.to_bytes(4, "big", signed=True) for v in values)
    assert canonical_i32(values) == expected
    assert canonical_i32(IntTensor.vector(values)) == expected
    assert weights_hash(values) == keccak(expected)
    assert canonical_i32([]) == b""
    with pytest.raises(CodecError):
        canonical_i32([2**31])


# --- Writer / Reader ------------------------------------------------------------------------------------


def test_writer_reader_round_trip() -> None:
    w = Writer()
    w.u8(255).u16(65535).u24(2**24 - 1).u32(7).u64(2**64 - 1).u128(2**128 - 1).u256(5)
    w.i8(-128).i16(-2).i32(-(2**31)).i64(2**63 - 1).addr(b"\x01" * 20).b32(b"\x02" * 32).raw(b"xy")
    data = w.getvalue()
    assert len(w) == len(data) == 1 + 2 + 3 + 4 + 8 + 16 + 32 + 1 + 2 + 4 + 8 + 20 + 32 + 2
    r = Reader(data)
    assert [r.u8(), r.u16(), r.u24(), r.u32(), r.u64(), r.u128(), r.u256()] == [
        255,
        65535,
        2**24 - 1,
        7,
        2**64 - 1,
        2**128 - 1,
        5,
    ]
    assert [r.i8(), r.i16(), r.i32(), r.i64()] == [-128, -2, -(2**31), 2**63 - 1]
    assert r.addr() == b"\x01" * 20 and r.b32() == b"\x02" * 32 and r.take(2, "raw") == b"xy"
    r.finish()


def test_writer_and_reader_errors_name_the_field() -> None:
    with pytest.raises(CodecError, match="amount"):
        Writer().u128(2**128, "amount")
    with pytest.raises(CodecError, match="nonce"):
        Writer().u64(-1, "nonce")
    with pytest.raises(CodecError, match="delta"):
        Writer().i8(128, "delta")
    with pytest.raises(CodecError, match="to"):
        Writer().addr(b"\x00" * 19, "to")
    with pytest.raises(CodecError, match="salt"):
        Writer().b32("0" * 32, "salt")  # type: ignore[arg-type]
    with pytest.raises(CodecError, match="nonce"):
        Reader(b"\x00" * 7).u64("nonce")
    with pytest.raises(CodecError, match="kind"):
        Reader(b"").u8("kind")
    with pytest.raises(CodecError, match="to"):
        Reader(b"\x00" * 19).addr("to")
    with pytest.raises(CodecError, match="trailing"):
        Reader(b"\x00").finish()
