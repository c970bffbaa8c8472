"""Helpers of the verifier tests: a verifier on the in-process py-evm chain of `tests.l1.game`, L2
batches to post (honest, with a wrong post root, with a wrong step), and rounds until a condition."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from l1_contracts.bindings import UnlockedSender
from l1_contracts.deploy import save
from protocol.deposits import Deposit
from protocol.fraud import honest_leaves
from protocol.hashing import keccak
from protocol.signing import Domain
from protocol.state import State
from protocol.transition import BatchContext, BatchResult, apply_batch, step_hash
from protocol.txs import Transfer
from tests.l1.game import Game
from tests.support.fees import FEE_PRICE, FEES
from tests.support.wallets import ETH, Wallet
from verifier.core.config import Settings
from verifier.db.models import DisputeRow
from verifier.node import VerifierNode

ALICE, BOB = Wallet.from_seed(21), Wallet.from_seed(22)


def sqlite_url(tmp_path: Path, name: str = "verifier.db") -> str:
    return f"sqlite:///{tmp_path / name}"


def make_settings(game: Game, tmp_path: Path, database_url: str | None = None, **overrides: Any) -> Settings:
    """Settings for `game`'s deployment (its file written under `tmp_path`), judging at once."""
    path = save(game.deployment, tmp_path / "deployments")
    values: dict[str, Any] = {
        "deployment_file": path,
        "database_url": database_url or sqlite_url(tmp_path),
        "confirmations": 0,
        "poll_interval_s": 0.01,
    }
    values.update(overrides)
    return Settings(**values)


def make_node(
    game: Game,
    tmp_path: Path,
    *,
    sender: UnlockedSender | None = None,
    database_url: str | None = None,
    watch_only: bool = False,
    **overrides: Any,
) -> VerifierNode:
    """A verifier of `game` on its chain; the challenger (account 2) plays unless `watch_only`."""
    settings = make_settings(game, tmp_path, database_url, **overrides)
    node = VerifierNode(settings, w3=game.w3, sender=None if watch_only else sender or game.challenger)
    node.open()
    return node


@dataclass
class L2:
    """The L2 side of a scenario: two funded wallets and the honest state as batches are executed."""

    game: Game
    domain: Domain
    state: State = field(default_factory=State)
    deposits: list[Deposit] = field(default_factory=list)
    consumed: int = 0

    @classmethod
    def funded(cls, game: Game) -> L2:
        """Deposits for Alice and Bob on the Bridge (consumed by the first batch)."""
        d = game.deployment
        l2 = cls(game, Domain(d.chain_id, bytes.fromhex(d.rollup[2:])))
        game.bridge.deposit(game.sender(5), ALICE.address, 5 * ETH)
        game.bridge.deposit(game.sender(5), BOB.address, ETH)
        l2.deposits = [log.deposit for log in game.bridge.deposit_logs()]
        return l2

    def transfers(self, *amounts: int) -> BatchResult:
        """The next batch: the deposits not consumed yet, then one transfer Alice → Bob an amount.
        The honest state moves to its end (post it honestly or not: the honest chain goes on)."""
        nonce = self.state.account(ALICE.address).nonce
        txs = [
            ALICE.sign(
                partial(Transfer, to=BOB.address, amount=amount, max_fee_price=FEE_PRICE),
                self.domain,
                nonce=nonce + i,
            )
            for i, amount in enumerate(amounts)
        ]
        deposits = self.deposits[self.consumed :]
        result = apply_batch(self.state, deposits, txs, BatchContext(self.domain, FEES, self.game.now()))
        self.state = result.post_state
        self.consumed = len(self.deposits)
        return result

    def rebase(self, state: State) -> None:
        """The honest chain is at `state` again (a batch was deleted and will be posted again)."""
        self.state = state


def wrong_step(result: BatchResult, index: int) -> tuple[list[bytes], bytes]:
    """The honest trace with step `index` given a wrong state root, and the post root to post with it
    (the wrong one when it is the last step)."""
    leaves = honest_leaves(result)
    step = result.steps[index]
    wrong = keccak(b"wrong root" + step.state_root)
    leaves[index] = step_hash(wrong, step.machine.cursor, step.machine.job)
    return leaves, wrong if index == len(leaves) - 1 else result.post_root


def rounds_until(node: VerifierNode, done: Callable[[], bool], *, limit: int = 10) -> int:
    """Run rounds until `done()`; returns how many it took (AssertionError after `limit`)."""
    for n in range(1, limit + 1):
        node.tick()
        if done():
            return n
    raise AssertionError(f"not done after {limit} rounds")


def disputes(node: VerifierNode) -> list[DisputeRow]:
    return node.store.disputes(-1, 1_000)
