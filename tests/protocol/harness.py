"""A small driver for protocol tests: funded keys, a clock, nonces, and batches through apply_batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from eth_account import Account

from protocol.deposits import Deposit
from protocol.receipts import Reason, Receipt
from protocol.signing import Domain, sign_tx
from protocol.state import State
from protocol.transition import BatchContext, BatchResult, apply_batch
from protocol.txs import Tx
from tests.support.fees import FEES

DOMAIN = Domain(chain_id=31337, verifying_contract=bytes.fromhex("5fbdb2315678afecb367f032d93f642f64180aa3"))
ETH = 10**18


def at_nonce(tx: Tx) -> Callable[[int], Tx]:
    """`tx` as a function of its nonce, for `Wallet.sign` (a tx built before its nonce is known)."""
    return lambda nonce: replace(tx, nonce=nonce)


@dataclass
class Wallet:
    key: bytes
    address: bytes
    nonce: int = 0  # the next nonce to sign with; `Harness.run` resyncs it from the state

    @classmethod
    def from_seed(cls, seed: int) -> Wallet:
        key = (seed + 1).to_bytes(32, "big")
        return cls(key, bytes.fromhex(Account.from_key(key).address[2:]))

    def sign(self, make: Callable[[int], Tx], domain: Domain = DOMAIN, nonce: int | None = None) -> bytes:
        """Sign `make(nonce)`, by default with this wallet's next nonce (which then advances)."""
        if nonce is None:
            nonce = self.nonce
            self.nonce += 1
        return sign_tx(domain, make(nonce), self.key).encoded


@dataclass
class Harness:
    """A chain of batches on one state, with a clock the tests move."""

    wallets: list[Wallet] = field(default_factory=lambda: [Wallet.from_seed(i) for i in range(6)])
    balance: int = 100 * ETH
    now: int = 1_000
    state: State = field(init=False)
    results: list[BatchResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state = State.with_balances({w.address: self.balance for w in self.wallets})

    def run(self, txs: Sequence[bytes] = (), deposits: Sequence[Deposit] = ()) -> BatchResult:
        result = apply_batch(self.state, deposits, txs, BatchContext(DOMAIN, FEES, self.now))
        self.state = result.post_state
        self.results.append(result)
        for w in self.wallets:
            w.nonce = self.state.account(w.address).nonce
        return result

    def paid(self, address: bytes) -> int:
        """Wei of fees `address` paid in the batches run so far."""
        return sum(r.fee for result in self.results for r in result.receipts if r.sender == address)

    def one(self, raw: bytes) -> Receipt:
        (receipt,) = self.run([raw]).receipts
        return receipt

    def expect(self, raw: bytes, reason: Reason) -> Receipt:
        """Run one tx, assert its outcome, and for a failure assert it changed nothing."""
        before = self.state.root
        receipt = self.one(raw)
        assert receipt.reason is reason, (receipt.reason, receipt.detail)
        if reason is not Reason.OK:
            assert self.state.root == before
        return receipt
