"""Big-endian byte writer and reader: the primitives of every layout in docs/spec.md.

`Writer` appends fixed-width fields and raises `CodecError` naming the field when a value does not fit.
`Reader` reads them back from `bytes` or a `memoryview` and raises `CodecError` naming the field when
the input is short; `finish()` rejects trailing bytes. Addresses are 20 raw bytes, `b32` 32 raw bytes.
"""

from __future__ import annotations

from protocol.errors import CodecError


class Writer:
    """Appends big-endian fields to a growing buffer; `getvalue()` returns the bytes written."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def getvalue(self) -> bytes:
        return bytes(self._buf)

    def __len__(self) -> int:
        return len(self._buf)

    def uint(self, value: int, size: int, field: str) -> Writer:
        """`value` as an unsigned big-endian integer of `size` bytes."""
        if not 0 <= value < 1 << (8 * size):
            raise CodecError(f"{field}: {value} does not fit in u{8 * size}")
        self._buf += value.to_bytes(size, "big")
        return self

    def _int(self, value: int, size: int, field: str) -> Writer:
        half = 1 << (8 * size - 1)
        if not -half <= value < half:
            raise CodecError(f"{field}: {value} does not fit in i{8 * size}")
        self._buf += value.to_bytes(size, "big", signed=True)
        return self

    def u8(self, value: int, field: str = "u8") -> Writer:
        return self.uint(value, 1, field)

    def u16(self, value: int, field: str = "u16") -> Writer:
        return self.uint(value, 2, field)

    def u24(self, value: int, field: str = "u24") -> Writer:
        return self.uint(value, 3, field)

    def u32(self, value: int, field: str = "u32") -> Writer:
        return self.uint(value, 4, field)

    def u64(self, value: int, field: str = "u64") -> Writer:
        return self.uint(value, 8, field)

    def u128(self, value: int, field: str = "u128") -> Writer:
        return self.uint(value, 16, field)

    def u256(self, value: int, field: str = "u256") -> Writer:
        return self.uint(value, 32, field)

    def i8(self, value: int, field: str = "i8") -> Writer:
        return self._int(value, 1, field)

    def i16(self, value: int, field: str = "i16") -> Writer:
        return self._int(value, 2, field)

    def i32(self, value: int, field: str = "i32") -> Writer:
        return self._int(value, 4, field)

    def i64(self, value: int, field: str = "i64") -> Writer:
        return self._int(value, 8, field)

    def fixed(self, value: bytes, size: int, field: str) -> Writer:
        """Exactly `size` raw bytes."""
        if not isinstance(value, bytes | bytearray):
            raise CodecError(f"{field}: expected {size} bytes, got {type(value).__name__}")
        if len(value) != size:
            raise CodecError(f"{field}: expected {size} bytes, got {len(value)}")
        self._buf += value
        return self

    def addr(self, value: bytes, field: str = "addr") -> Writer:
        return self.fixed(value, 20, field)

    def b32(self, value: bytes, field: str = "b32") -> Writer:
        return self.fixed(value, 32, field)

    def raw(self, value: bytes) -> Writer:
        """Any bytes, unframed."""
        self._buf += value
        return self


class Reader:
    """Reads big-endian fields from `data` starting at offset 0; `pos` is the next byte to read."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes | bytearray | memoryview, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def _short(self, size: int, field: str) -> CodecError:
        left = len(self.data) - self.pos
        return CodecError(f"{field}: needs {size} bytes at offset {self.pos}, only {left} left")

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, size: int, field: str) -> bytes:
        """The next `size` bytes, as `bytes`."""
        start = self.pos
        end = start + size
        if size < 0 or end > len(self.data):
            raise self._short(size, field)
        self.pos = end
        return bytes(self.data[start:end])

    def skip(self, size: int, field: str) -> int:
        """Advance past `size` bytes and return their start offset (for zero-copy readers)."""
        start = self.pos
        end = start + size
        if size < 0 or end > len(self.data):
            raise self._short(size, field)
        self.pos = end
        return start

    def uint(self, size: int, field: str) -> int:
        """An unsigned big-endian integer of `size` bytes."""
        start = self.pos
        end = start + size
        if end > len(self.data):
            raise self._short(size, field)
        self.pos = end
        return int.from_bytes(self.data[start:end], "big")

    def _int(self, size: int, field: str) -> int:
        start = self.pos
        end = start + size
        if end > len(self.data):
            raise self._short(size, field)
        self.pos = end
        return int.from_bytes(self.data[start:end], "big", signed=True)

    def u8(self, field: str = "u8") -> int:
        if self.pos >= len(self.data):
            raise CodecError(f"{field}: needs 1 byte at offset {self.pos}, none left")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def u16(self, field: str = "u16") -> int:
        return self.uint(2, field)

    def u24(self, field: str = "u24") -> int:
        return self.uint(3, field)

    def u32(self, field: str = "u32") -> int:
        return self.uint(4, field)

    def u64(self, field: str = "u64") -> int:
        return self.uint(8, field)

    def u128(self, field: str = "u128") -> int:
        return self.uint(16, field)

    def u256(self, field: str = "u256") -> int:
        return self.uint(32, field)

    def i8(self, field: str = "i8") -> int:
        return self._int(1, field)

    def i16(self, field: str = "i16") -> int:
        return self._int(2, field)

    def i32(self, field: str = "i32") -> int:
        return self._int(4, field)

    def i64(self, field: str = "i64") -> int:
        return self._int(8, field)

    def addr(self, field: str = "addr") -> bytes:
        return self.take(20, field)

    def b32(self, field: str = "b32") -> bytes:
        return self.take(32, field)

    def finish(self, what: str = "input") -> None:
        """Raise `CodecError` unless every byte was read."""
        if self.pos != len(self.data):
            raise CodecError(f"{what}: {len(self.data) - self.pos} trailing bytes at offset {self.pos}")
