"""Small conversions shared by the routes: hex out, path and query parameters in.

The parameter types carry the bounds the database and the protocol hold (an id is a u64 in the
protocol, a signed 64-bit integer in the database), so a number beyond them is refused with a 422
before any query, and `/openapi.json` says what is accepted. Hex parameters are parsed by the routes
(400 `invalid_hex`, `bad_checksum`); their schema carries the pattern."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Final

from fastapi import Path, Query

from protocol.params import MAX_BATCH_STEPS
from protocol.signing import to_checksum_address
from sequencer.api.txjson import parse_address, parse_hex

U64_MAX: Final = 2**64 - 1
DB_INT_MAX: Final = 2**63 - 1  # SQLite's and PostgreSQL's BIGINT: a batch or block number is stored as one
HASH_PATTERN: Final = "^0[xX][0-9a-fA-F]{64}$"
ADDRESS_PATTERN: Final = "^0[xX][0-9a-fA-F]{40}$"
ADDRESS_HELP: Final = "0x and 40 hex digits; a mixed-case address must carry its EIP-55 checksum"

StateId = Annotated[int, Path(ge=0, le=U64_MAX, description="a u64 id of the L2 state")]
BatchId = Annotated[int, Path(ge=0, le=DB_INT_MAX)]
BlockNumber = Annotated[int, Path(ge=0, le=DB_INT_MAX)]
StepOffset = Annotated[int, Query(ge=0, le=MAX_BATCH_STEPS, description="steps to skip")]
HashParam = Annotated[
    str, Path(description="0x and 64 hex digits", json_schema_extra={"pattern": HASH_PATTERN})
]
AddressParam = Annotated[str, Path(description=ADDRESS_HELP, json_schema_extra={"pattern": ADDRESS_PATTERN})]
ProofBatch = Annotated[
    int | None, Query(ge=0, le=DB_INT_MAX, description="prove against this sealed batch's post-state")
]


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
