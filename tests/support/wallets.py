"""Test accounts: keys from seeds, each signing with its next nonce; `at_nonce`, the one way to sign a
tx built beforehand at whatever nonce its sender is at (or again, at another nonce); and `transfer`,
the tx they sign most."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from eth_account import Account

from protocol.signing import Domain, sign_tx
from protocol.txs import Transfer, Tx
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE

ETH = 10**18


def at_nonce(tx: Tx) -> Callable[[int], Tx]:
    """`tx` as a function of its nonce, for `Wallet.sign` (a tx built before its nonce is known)."""
    return lambda nonce: replace(tx, nonce=nonce)


def transfer(to: bytes, amount: int = 1, price: int = FEE_PRICE) -> Callable[[int], Tx]:
    """A transfer of `amount` wei to `to` with the fee price cap `price`, for `Wallet.sign`."""
    return lambda nonce: Transfer(nonce, to, amount, max_fee_price=price)


@dataclass
class Wallet:
    key: bytes
    address: bytes
    nonce: int = 0  # the next nonce to sign with; `Harness.run` resyncs it from the state

    @classmethod
    def from_seed(cls, seed: int) -> Wallet:
        key = (seed + 1).to_bytes(32, "big")
        return cls(key, bytes.fromhex(Account.from_key(key).address[2:]))

    def take_nonce(self, nonce: int | None = None) -> int:
        """`nonce`, or by default this wallet's next nonce, which then advances."""
        if nonce is None:
            nonce = self.nonce
            self.nonce += 1
        return nonce

    def sign(self, make: Callable[[int], Tx], domain: Domain = DOMAIN, nonce: int | None = None) -> bytes:
        """Sign `make(nonce)`, by default with this wallet's next nonce (which then advances)."""
        return sign_tx(domain, make(self.take_nonce(nonce)), self.key).encoded

    def peek(self, make: Callable[[int], Tx], domain: Domain = DOMAIN, nonce: int | None = None) -> bytes:
        """Sign `make(nonce)`, by default with this wallet's next nonce, without moving it (for a tx
        the test expects refused)."""
        return self.sign(make, domain, self.nonce if nonce is None else nonce)
