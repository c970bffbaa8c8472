"""A sequencer that follows an in-process py-evm L1, driven step by step by the tests.

The L1 is tests/l1/game.py's deployment (short windows, the Bridge, the one-step prover, our proposer
and a second bonded proposer, a challenger, a watcher). The sequencer's clock is the latest L1 block's
time, so its batches are never ahead of L1. Nothing runs on a thread: a test builds blocks, posts,
follows L1 and plays the other roles itself, in the order it wants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from l1_contracts.reader import L1Reader
from protocol.derive import Derivation, Derived, Verdict
from protocol.signing import Domain
from sequencer.batcher import Batcher, BatcherConfig, PassResult
from sequencer.builder import BlockBuilder
from sequencer.faults import FaultDrill
from sequencer.follower import Follower, FollowResult
from sequencer.l1_web3 import BridgeDeposits, RollupPoster
from sequencer.mempool import PendingTx, Submission
from sequencer.node import Sequencer
from tests.l1.game import Game, make_game
from tests.sequencer.helpers import make_settings, sqlite_url
from tests.support.fees import FEES
from tests.support.wallets import ETH, Wallet


@dataclass
class Rig:
    game: Game
    node: Sequencer
    builder: BlockBuilder
    batcher: Batcher
    follower: Follower
    deposits: BridgeDeposits

    @property
    def domain(self) -> Domain:
        return self.node.domain

    def reader(self) -> L1Reader:
        """A fresh reader of the deployment, as a verifier would make one."""
        return L1Reader(
            self.game.rollup, self.game.bridge, from_block=self.game.deployment.block_number, confirmations=0
        )

    def fund(self, wallets: Sequence[Wallet], amount: int = 100 * ETH) -> None:
        """Deposit `amount` to each wallet on L1 and build a batch of those deposits (sealed)."""
        for w in wallets:
            self.game.bridge.deposit(self.game.sender(5), w.address, amount)
        assert self.node.poll_deposits(self.deposits) == len(wallets)
        if self.node.open_batch is not None:
            self.builder.seal()
        assert self.builder.tick() is not None
        self.builder.seal()

    def submit(self, raws: Sequence[bytes]) -> list[PendingTx]:
        return self.node.submit([Submission(raw) for raw in raws])

    def build(self, *, seal: bool = True) -> None:
        """Execute every pending tx in blocks, then seal the open batch."""
        while self.builder.tick() is not None:
            pass
        if seal:
            self.builder.seal()

    def post(self) -> PassResult:
        return self.batcher.run_once()

    def follow(self) -> FollowResult:
        return self.follower.follow_once()

    def derive_l1(self) -> tuple[Derivation, list[Derived]]:
        """Every batch L1 holds, derived from L1 data alone from genesis."""
        reader = self.reader()
        reader.poll()
        chain = Derivation(self.domain, FEES)
        return chain, chain.extend(reader.live_batches, reader.deposits)

    def assert_l1_is_ours(self) -> None:
        """Every batch L1 holds is valid, and the honest state after them is the sequencer's."""
        chain, derived = self.derive_l1()
        assert [d.verdict for d in derived] == [Verdict.VALID] * len(derived), [d.reason for d in derived]
        assert chain.state.root == self.node.head.root

    def close(self) -> None:
        self.node.close()


def make_rig(tmp_path: Path, *, fault: FaultDrill | None = None) -> Rig:
    """A fresh deployment and a sequencer on it, in line with L1 (the follower read it once)."""
    game = make_game()
    d = game.deployment
    node = Sequencer(
        make_settings(sqlite_url(tmp_path), chain_id=d.chain_id, rollup_address=d.rollup),
        clock=lambda: float(game.now()),
    )
    node.start()
    builder = BlockBuilder(node, fault=fault)
    poster = RollupPoster(game.rollup, game.proposer, from_block=d.block_number)
    batcher = Batcher(
        node.store,
        poster,
        BatcherConfig(poll_s=0),
        metrics=node.metrics,
        clock=node.clock,
        on_final=node.forget_before,
    )
    rig = Rig(
        game,
        node,
        builder,
        batcher,
        Follower(node, builder, lambda: rig.reader(), proposer=game.proposer.address),
        BridgeDeposits(game.bridge, confirmations=0, from_block=d.block_number),
    )
    rig.follow()
    assert node.catching_up is None
    return rig
