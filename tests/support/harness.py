"""A small driver for protocol tests: funded wallets, a clock, and batches through apply_batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from protocol.deposits import Deposit
from protocol.receipts import Reason, Receipt
from protocol.state import State
from protocol.transition import BatchContext, BatchResult, apply_batch
from tests.support.domain import DOMAIN
from tests.support.fees import FEES
from tests.support.wallets import ETH, Wallet


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
