"""The watcher: batches judged from L1 alone as they are confirmed, deletions, a reorg, a restart."""

from __future__ import annotations

from pathlib import Path

from protocol.hashing import keccak
from tests.l1.game import Game
from tests.support.wallets import ETH
from tests.verifier.support import L2, disputes, make_node
from verifier.db.models import BatchState


def test_batches_are_judged_once_confirmed(game: Game, tmp_path: Path) -> None:
    node = make_node(game, tmp_path, confirmations=2)
    try:
        l2 = L2.funded(game)
        game.post_result(l2.transfers(ETH), post_root=keccak(b"forged"))
        node.tick()
        assert node.store.batches(-1, 10) == [] and disputes(node) == []  # too recent to judge
        game.tester.mine_blocks(1)
        node.tick()
        assert node.store.batches(-1, 10) == []
        game.tester.mine_blocks(1)
        node.tick()
        (row,) = node.store.batches(-1, 10)
        assert row.verdict == "wrong_roots" and len(disputes(node)) == 1
        assert node.status.l1_block == int(game.w3.eth.block_number) - 2 - 1  # the challenge's block
    finally:
        node.close()


def test_a_reorg_rebuilds_the_derivation(game: Game, tmp_path: Path) -> None:
    node = make_node(game, tmp_path, watch_only=True)
    try:
        l2 = L2.funded(game)
        snapshot = game.tester.take_snapshot()
        first = l2.transfers(ETH)
        game.post_result(first)
        node.tick()
        (gone,) = node.store.batches(-1, 10)
        game.tester.revert_to_snapshot(snapshot)  # that batch is gone; another takes index 0
        l2.rebase(first.pre_state)
        game.post_result(l2.transfers(2 * ETH))
        game.tester.mine_blocks(1)
        node.tick()
        rows = node.store.batches(-1, 10)
        assert [(r.l1_tx_hash, r.status) for r in rows] == [
            (gone.l1_tx_hash, BatchState.DELETED),
            (rows[1].l1_tx_hash, BatchState.LIVE),
        ]
        assert rows[1].verdict == "valid" and rows[1].honest_post_root == l2.state.root
    finally:
        node.close()


def test_a_restart_derives_again_without_reporting_again(game: Game, tmp_path: Path) -> None:
    l2 = L2.funded(game)
    game.post_result(l2.transfers(ETH))
    game.post_result(l2.transfers(1), post_root=keccak(b"forged"))
    first = make_node(game, tmp_path, watch_only=True)
    first.tick()
    judged = [(r.id, r.verdict, r.judged_at) for r in first.store.batches(-1, 10)]
    assert [v for _, v, _ in judged] == ["valid", "wrong_roots"]
    first.close()
    again = make_node(game, tmp_path, watch_only=True)
    try:
        again.tick()
        assert [(r.id, r.verdict, r.judged_at) for r in again.store.batches(-1, 10)] == judged
        disagreements = again.metrics.registry.get_sample_value("mlrollup_verifier_disagreements_total")
        assert disagreements == 1  # from the database, not counted twice
        assert again.watcher is not None and again.watcher.latest is not None
        assert again.watcher.latest.batch.index == 1
    finally:
        again.close()
