"""Small conversions shared by the routes: hex out, path parameters in."""

from __future__ import annotations

from functools import lru_cache

from protocol.signing import to_checksum_address
from sequencer.api.txjson import parse_address, parse_hex


def hx(data: bytes) -> str:
    return "0x" + bytes(data).hex()


def hx_or_none(data: bytes | None) -> str | None:
    return None if data is None else hx(data)


@lru_cache(maxsize=65_536)
def checksum(address: bytes) -> str:
    """The EIP-55 form of an address (cached: every answer about a tx names its sender)."""
    return to_checksum_address(bytes(address))


def path_hash(text: str, name: str = "hash") -> bytes:
    """A 32-byte 0x hex path parameter; `invalid_hex` otherwise."""
    return parse_hex(text, name, 32)


def path_address(text: str) -> bytes:
    return parse_address(text, "address")
