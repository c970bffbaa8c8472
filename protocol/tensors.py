"""Integer tensors and their canonical encoding (docs/spec.md section 3, "Tensor").

Encoding: `u8 rank (1|2) ‖ u32 dim × rank ‖ u8 width (1|2|4|8) ‖ elements`, each element a signed
big-endian integer of `width` bytes, row-major; `width` is the smallest of 1, 2, 4, 8 holding every
element (1 for an empty tensor). In memory a tensor is an `IntTensor`: its shape and its elements as a
flat row-major tuple of Python ints, so it is hashable, comparable and cheap to build from bytes.

Solidity twins: `l1_contracts/src/libraries/PackedI32.sol` (`canonical_i32`, `weights_hash`) and
`l1_contracts/src/prover/TxCodec.sol` (`decode_tensor`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from protocol.encoding import Reader
from protocol.errors import CodecError
from protocol.hashing import keccak
from protocol.params import MAX_TENSOR_DIM, MAX_TENSOR_ELEMENTS

_FORMATS = {1: "b", 2: "h", 4: "i", 8: "q"}


@dataclass(frozen=True, slots=True)
class IntTensor:
    """A rank-1 or rank-2 tensor of ints: `shape` and the flat row-major `values`.

    The first encoding (or the decoding) caches the canonical bytes and the element range, so
    re-encoding a decoded tensor (for the EIP-712 struct hash) costs no pass over the elements.
    """

    shape: tuple[int, ...]
    values: tuple[int, ...]
    _cache: tuple[bytes, int, int] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if type(self.values) is not tuple:
            object.__setattr__(self, "values", tuple(self.values))
        if type(self.shape) is not tuple:
            object.__setattr__(self, "shape", tuple(self.shape))
        if len(self.shape) not in (1, 2) or any(d < 0 for d in self.shape):
            raise ValueError(f"a tensor has rank 1 or 2 and non-negative dims, got shape {self.shape}")
        size = self.shape[0] if len(self.shape) == 1 else self.shape[0] * self.shape[1]
        if size != len(self.values):
            raise ValueError(f"shape {self.shape} needs {size} values, got {len(self.values)}")

    @classmethod
    def vector(cls, values: Iterable[int]) -> IntTensor:
        """A rank-1 tensor."""
        flat = tuple(int(v) for v in values)
        return cls((len(flat),), flat)

    @classmethod
    def matrix(cls, rows: Iterable[Iterable[int]], n_cols: int | None = None) -> IntTensor:
        """A rank-2 tensor from its rows; `n_cols` gives the width of a tensor with no rows (else 0)."""
        row_list = [tuple(int(v) for v in row) for row in rows]
        cols = len(row_list[0]) if row_list else (n_cols or 0)
        if n_cols is not None and cols != n_cols:
            raise ValueError(f"rows of {cols} values, expected {n_cols}")
        if any(len(row) != cols for row in row_list):
            raise ValueError("ragged rows: every row of a matrix needs the same length")
        return cls((len(row_list), cols), tuple(v for row in row_list for v in row))

    @classmethod
    def from_torch(cls, tensor: Any) -> IntTensor:
        """From a rank-1 or rank-2 torch tensor of integers."""
        return cls(tuple(int(d) for d in tensor.shape), tuple(int(v) for v in tensor.flatten().tolist()))

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return len(self.values)

    def rows(self) -> list[tuple[int, ...]]:
        """The rows of a rank-2 tensor (each a tuple); a rank-1 tensor raises `ValueError`."""
        if len(self.shape) != 2:
            raise ValueError("rows() needs a rank-2 tensor")
        n_rows, n_cols = self.shape
        return [self.values[i * n_cols : (i + 1) * n_cols] for i in range(n_rows)]

    def to_torch(self) -> Any:
        """A `torch.int64` tensor of this shape (torch is imported on first use)."""
        import torch

        return torch.tensor(self.values, dtype=torch.int64).reshape(self.shape)


def as_tensor(values: IntTensor | Sequence[int] | Sequence[Sequence[int]]) -> IntTensor:
    """An `IntTensor` from a tensor, a list of ints (rank 1) or a list of rows (rank 2).

    An empty list is the empty rank-1 tensor; build an empty matrix with `IntTensor.matrix([], n_cols)`.
    """
    if isinstance(values, IntTensor):
        return values
    if len(values) and not isinstance(values[0], int):
        return IntTensor.matrix(values)  # type: ignore[arg-type]
    return IntTensor.vector(values)  # type: ignore[arg-type]


def element_width(lo: int, hi: int) -> int:
    """Smallest of 1, 2, 4, 8 bytes holding every integer of `[lo, hi]` as two's complement."""
    if lo >= -0x80 and hi <= 0x7F:
        return 1
    if lo >= -0x8000 and hi <= 0x7FFF:
        return 2
    if lo >= -0x8000_0000 and hi <= 0x7FFF_FFFF:
        return 4
    if lo >= -(1 << 63) and hi < 1 << 63:
        return 8
    raise CodecError(f"tensor element range [{lo}, {hi}] does not fit in int64")


def _range(tensor: IntTensor) -> tuple[int, int]:
    """`(min, max)` of the elements, `(0, 0)` when there are none."""
    cache = tensor._cache
    if cache is not None:
        return cache[1], cache[2]
    if not tensor.values:
        return 0, 0
    return min(tensor.values), max(tensor.values)


def check_tensor(tensor: IntTensor, *, rank: int, bound: int, field: str) -> tuple[int, int]:
    """Raise `CodecError` unless `tensor` has `rank`, fits the size limits and lies in `[-bound, bound]`.

    Returns the element range `(min, max)` (`(0, 0)` for an empty tensor).
    """
    if tensor.rank != rank:
        raise CodecError(f"{field}: rank {tensor.rank}, expected {rank}")
    for dim in tensor.shape:
        if dim > MAX_TENSOR_DIM:
            raise CodecError(f"{field}: dim {dim} exceeds MAX_TENSOR_DIM = {MAX_TENSOR_DIM}")
    if tensor.size > MAX_TENSOR_ELEMENTS:
        raise CodecError(f"{field}: {tensor.size} elements exceed MAX_TENSOR_ELEMENTS {MAX_TENSOR_ELEMENTS}")
    lo, hi = _range(tensor)
    if lo < -bound or hi > bound:
        raise CodecError(f"{field}: element range [{lo}, {hi}] exceeds [-{bound}, {bound}]")
    return lo, hi


def encode_tensor(
    values: IntTensor | Sequence[int] | Sequence[Sequence[int]],
    bound: int,
    *,
    rank: int | None = None,
    field: str = "tensor",
) -> bytes:
    """The canonical encoding; `CodecError` when the tensor breaks the rank (if given), size or bound."""
    tensor = as_tensor(values)
    lo, hi = check_tensor(tensor, rank=tensor.rank if rank is None else rank, bound=bound, field=field)
    cache = tensor._cache
    if cache is not None:
        return cache[0]
    width = element_width(lo, hi)
    head = struct.pack(">B" + "I" * tensor.rank + "B", tensor.rank, *tensor.shape, width)
    try:
        encoding = head + struct.pack(f">{tensor.size}{_FORMATS[width]}", *tensor.values)
    except struct.error as exc:
        raise CodecError(f"{field}: elements must be ints: {exc}") from None
    object.__setattr__(tensor, "_cache", (encoding, lo, hi))
    return encoding


def decode_tensor(reader: Reader, *, rank: int, bound: int, field: str) -> IntTensor:
    """Read one tensor of `rank` with elements in `[-bound, bound]`; `CodecError` on anything else."""
    head = reader.pos
    got_rank = reader.u8(f"{field}.rank")
    if got_rank != rank:
        raise CodecError(f"{field}: rank {got_rank}, expected {rank}")
    shape = tuple(reader.u32(f"{field}.dim") for _ in range(rank))
    n = 1
    for dim in shape:
        if dim > MAX_TENSOR_DIM:
            raise CodecError(f"{field}: dim {dim} exceeds MAX_TENSOR_DIM = {MAX_TENSOR_DIM}")
        n *= dim
    if n > MAX_TENSOR_ELEMENTS:
        raise CodecError(f"{field}: {n} elements exceed MAX_TENSOR_ELEMENTS {MAX_TENSOR_ELEMENTS}")
    width = reader.u8(f"{field}.width")
    fmt = _FORMATS.get(width)
    if fmt is None:
        raise CodecError(f"{field}: width {width} is not 1, 2, 4 or 8")
    start = reader.skip(n * width, f"{field}.elements")
    values: tuple[int, ...] = struct.unpack_from(f">{n}{fmt}", reader.data, start)
    lo, hi = (min(values), max(values)) if n else (0, 0)
    if lo < -bound or hi > bound:
        raise CodecError(f"{field}: element range [{lo}, {hi}] exceeds [-{bound}, {bound}]")
    minimal = element_width(lo, hi)
    if width != minimal:
        raise CodecError(f"{field}: width {width} is not minimal ({minimal})")
    tensor = IntTensor(shape, values)
    object.__setattr__(tensor, "_cache", (bytes(reader.data[head : reader.pos]), lo, hi))
    return tensor


def canonical_i32(values: IntTensor | Iterable[int]) -> bytes:
    """Each value as a big-endian i32, concatenated (weights hashes and test-set chunks)."""
    flat = values.values if isinstance(values, IntTensor) else tuple(values)
    try:
        return struct.pack(f">{len(flat)}i", *flat)
    except struct.error as exc:
        raise CodecError(f"a value does not fit in i32: {exc}") from None


def weights_hash(values: IntTensor | Iterable[int]) -> bytes:
    """`H(i32 × params)` of flat weights (docs/spec.md section 6, CommitModel)."""
    return keccak(canonical_i32(values))
