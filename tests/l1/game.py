"""Shared helpers of the fraud-game tests: a deployment with short windows, batches with a chosen trace,
the game's accounts (proposer, challenger, a second proposer, a watcher) and balance bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from web3.types import TxReceipt

from l1_contracts.artifacts import load_artifact
from l1_contracts.bindings import Bridge, Rollup, UnlockedSender, append_batch_gas, transact
from l1_contracts.deploy import deploy
from protocol.codec import encode_batch
from protocol.hashing import keccak, merkle_root
from protocol.transition import BatchResult
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT_ADDRESS
from tests.support.l1 import Env, make_w3

BOND = 10**18
CHALLENGER_BOND = 10**17
WINDOW = 1_000  # challenge window, seconds
RESPONSE = 100  # reveal window
PROOF = 200  # proof window
SHARE_BPS = 4_000  # 40% of a slashed bond to the challenger


@dataclass
class Game(Env):
    """An `Env` whose Rollup plays the fraud game with the deployment's prover."""

    @property
    def challenger(self) -> UnlockedSender:
        return self.sender(2)

    @property
    def other_proposer(self) -> UnlockedSender:
        return self.sender(3)

    @property
    def watcher(self) -> UnlockedSender:
        return self.sender(4)

    def post_trace(
        self,
        leaves: Sequence[bytes],
        *,
        sender: UnlockedSender | None = None,
        txs: Sequence[bytes] = (b"\x01\x02",),
        ts: int | None = None,
        post_root: bytes | None = None,
        deposits: int | None = None,
    ) -> int:
        """Append a batch whose trace root is that of `leaves`; returns its index."""
        r = self.rollup
        count = r.batch_count()
        if deposits is None:
            deposits = r.get_batch(count - 1).deposit_count if count else 0
        prev = r.last_root()
        data = encode_batch(self.now() if ts is None else ts, list(txs))
        post = keccak(b"post" + count.to_bytes(8, "big") + prev) if post_root is None else post_root
        r.append_batch(
            sender or self.proposer,
            data,
            prev,
            post,
            merkle_root(list(leaves)),
            deposits,
            gas=append_batch_gas(data),
        )
        return count

    def post_result(
        self,
        result: BatchResult,
        *,
        leaves: Sequence[bytes] | None = None,
        post_root: bytes | None = None,
        sender: UnlockedSender | None = None,
    ) -> int:
        """Append the batch `result` executed, with its honest roots unless `leaves` / `post_root` say
        otherwise; the deposit count is the previous batch's plus the deposits it consumed."""
        r = self.rollup
        count = r.batch_count()
        before = r.get_batch(count - 1).deposit_count if count else 0
        data = encode_batch(result.context.timestamp, list(result.txs))
        trace = result.trace_root if leaves is None else merkle_root(list(leaves))
        r.append_batch(
            sender or self.proposer,
            data,
            result.pre_state.root,
            result.post_root if post_root is None else post_root,
            trace,
            before + len(result.deposits),
            gas=append_batch_gas(data),
        )
        return count

    def reveal(self, index: int, leaves: Sequence[bytes], sender: UnlockedSender | None = None) -> TxReceipt:
        return self.rollup.reveal_steps(sender or self.proposer, index, list(leaves))


def make_game(
    *,
    genesis_root: bytes | None = None,
    stand_in_prover: bool = False,
    window: int = WINDOW,
    share_bps: int = SHARE_BPS,
) -> Game:
    """A fresh chain with the Bridge, the one-step prover and the Rollup; the proposer (account 1) and
    the other proposer (account 3) are bonded. `stand_in_prover` builds the Rollup on
    `TestStepProver` instead (test_fraud_game_bookkeeping.py only)."""
    w3, tester = make_w3()
    prover = None
    if stand_in_prover:
        code = bytes.fromhex(load_artifact("TestStepProver").bytecode[2:])
        receipt = transact(w3, UnlockedSender(w3.eth.accounts[0]), to=None, data=code, gas=500_000)
        prover = str(receipt["contractAddress"])
    d = deploy(
        w3,
        UnlockedSender(w3.eth.accounts[0]),
        bond=BOND,
        challenge_window=window,
        genesis_root=genesis_root,
        challenger_bond=CHALLENGER_BOND,
        response_window=RESPONSE,
        proof_window=PROOF,
        challenger_share_bps=share_bps,
        prover=prover,
        fee_price=FEE_PRICE,
        fee_recipient=FEE_RECIPIENT_ADDRESS,
    )
    game = Game(w3, tester, d, Rollup(w3, d.rollup), Bridge(w3, d.bridge))
    game.rollup.bond(game.proposer)
    game.rollup.bond(game.other_proposer)
    return game


def leaves_for(tag: bytes, n: int) -> list[bytes]:
    """`n` distinct arbitrary trace leaves."""
    return [keccak(tag + i.to_bytes(4, "big")) for i in range(n)]
