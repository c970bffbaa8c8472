"""A user's L2 key: its address, and EIP-712 signing of txs for a rollup's domain (protocol.signing)."""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol.signing import Domain, address_of, sign_tx, to_checksum_address
from protocol.txs import SignedTx, Tx


def parse_key(key: str | bytes) -> bytes:
    """32 bytes from a private key given as bytes or (0x) hex; `ValueError` otherwise."""
    if isinstance(key, bytes):
        raw = key
    else:
        text = key.strip()
        text = text[2:] if text[:2] in ("0x", "0X") else text
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise ValueError("the private key is not hex") from None
    if len(raw) != 32:
        raise ValueError(f"a private key is 32 bytes, got {len(raw)}")
    return raw


@dataclass(frozen=True, slots=True)
class Wallet:
    """A secp256k1 key; the same key is an L1 account (deposits and claims) and an L2 account."""

    key: bytes = field(repr=False)
    address: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", address_of(self.key))

    @classmethod
    def from_key(cls, key: str | bytes) -> Wallet:
        return cls(parse_key(key))

    @property
    def checksum(self) -> str:
        """The EIP-55 address."""
        return to_checksum_address(self.address)

    def sign(self, domain: Domain, tx: Tx) -> SignedTx:
        """The tx signed for `domain` (low-s, v 27/28), with its canonical encoding and hash."""
        return sign_tx(domain, tx, self.key)
