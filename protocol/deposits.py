"""L1 deposits and the Bridge queue's rolling hash (docs/spec.md section 4).

Deposit `i` is `(recipient addr, amount u128)`; its hash is `H(u64 i ‖ recipient ‖ u128 amount)` and the
queue's rolling hash is `h_0 = 0`, `h_{i+1} = H(h_i ‖ depositHash_i)`. `recipient` is 20 raw bytes.

Solidity twin: `l1_contracts/src/bridge/Bridge.sol` (`deposit`, `depositHash`, `rollingHash`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protocol.encoding import Writer
from protocol.errors import CodecError
from protocol.hashing import ZERO32, keccak


@dataclass(frozen=True, slots=True)
class Deposit:
    index: int  # position in the Bridge's queue, from 0
    recipient: bytes  # 20-byte L2 address
    amount: int  # u128


def encode_deposit(d: Deposit) -> bytes:
    """`u64 index ‖ recipient ‖ u128 amount`; `CodecError` when a field is out of range."""
    return (
        Writer()
        .u64(d.index, "Deposit.index")
        .addr(d.recipient, "Deposit.recipient")
        .u128(d.amount, "Deposit.amount")
        .getvalue()
    )


def deposit_hash(d: Deposit) -> bytes:
    """`H(u64 index ‖ recipient ‖ u128 amount)`."""
    return keccak(encode_deposit(d))


def rolling_hash(prev: bytes, d: Deposit) -> bytes:
    """`h_{i+1} = H(h_i ‖ depositHash_i)` with `prev = h_i` and `d` deposit `i`."""
    if len(prev) != 32:
        raise CodecError(f"rolling hash must be 32 bytes, got {len(prev)}")
    return keccak(prev + deposit_hash(d))


def rolling_hashes(deposits: Sequence[Deposit], prev: bytes = ZERO32) -> list[bytes]:
    """The rolling hash after each deposit: `[h_{i+1}, h_{i+2}, …]` for deposits `i, i+1, …`.

    `prev` is the hash before the first deposit (`h_0 = 0` when the list starts at deposit 0). The
    deposits must have consecutive indices; `CodecError` otherwise.
    """
    out: list[bytes] = []
    h = prev
    for k, d in enumerate(deposits):
        if k and d.index != deposits[k - 1].index + 1:
            raise CodecError(f"deposit indices not consecutive: {deposits[k - 1].index} then {d.index}")
        h = rolling_hash(h, d)
        out.append(h)
    return out
