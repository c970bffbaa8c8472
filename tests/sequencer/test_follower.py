"""The sequencer follows L1 (`sequencer.follower`), on an in-process py-evm chain with the real
contracts: our batches deleted by a proven fraud are rolled back and the same txs posted again;
another proposer's valid batch at our next index is adopted and ours rebuilt on top; a fraudulent one
is refused, the sequencer waits (refusing txs with a 503) until L1 deletes it, then goes on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient

from l1_contracts.reader import L1Reader, L1Update
from protocol.fraud import LastStepProof, StepProof, find_fraud
from protocol.hashing import keccak
from protocol.receipts import Reason
from protocol.state import State
from protocol.transition import BatchContext, StepKind, apply_batch
from protocol.txs import Transfer
from sequencer.core.errors import ApiError
from sequencer.db.models import BatchState, Origin, TxStatus
from sequencer.faults import FaultDrill, FaultKind
from sequencer.follower import Follower
from sequencer.l1 import L1Batches
from sequencer.main import create_app
from tests.l1.game import RESPONSE, WINDOW
from tests.sequencer.rig import Rig, make_rig
from tests.support.fees import FEE_PRICE, FEES, fee_of
from tests.support.wallets import ETH, Wallet

JUNK_TX = b"\x01\x02"  # does not decode: a failed step, no state change
A, B, C = (Wallet.from_seed(i) for i in (21, 22, 23))


@pytest.fixture
def wallets() -> Iterator[list[Wallet]]:
    ws = [Wallet(w.key, w.address) for w in (A, B, C)]  # fresh nonces for each test
    yield ws


def transfer(rig: Rig, sender: Wallet, to: Wallet, amount: int) -> bytes:
    return sender.sign(partial(Transfer, to=to.address, amount=amount, max_fee_price=FEE_PRICE), rig.domain)


def executed(rig: Rig, hashes: list[bytes]) -> list[str]:
    rows = [rig.node.store.tx(h) for h in hashes]
    return [r.status if r is not None else "missing" for r in rows]


@pytest.mark.parametrize("kind", [FaultKind.TRANSFER_BALANCE, FaultKind.TRACE_SHORT])
def test_batches_deleted_by_a_fraud_proof_are_rolled_back_and_posted_again(
    tmp_path: Path, wallets: list[Wallet], kind: FaultKind
) -> None:
    a, b, _ = wallets
    rig = make_rig(tmp_path, fault=FaultDrill(kind, at_batch=1))
    game, node = rig.game, rig.node
    try:
        rig.fund([a, b])
        sent = [transfer(rig, a, b, ETH), transfer(rig, a, b, 2)]
        acknowledged = [p.hash for p in rig.submit(sent)]
        rig.build()  # batch 1, with the wrong result (the drill seals it at once)
        back = transfer(rig, b, a, 5)
        acknowledged += [p.hash for p in rig.submit([back])]
        rig.build()  # batch 2, on top of it
        assert [p.batch_id for p in rig.post().posted] == [0, 1, 2]
        ran_at = [b.timestamp for b in rig.node.store.batches(0, 2)]  # batches 1 and 2
        _, derived = rig.derive_l1()
        after = "valid" if kind is FaultKind.TRACE_SHORT else "off_chain"  # its state was honest
        assert [d.verdict.value for d in derived] == ["valid", "wrong_roots", after]

        game.rollup.challenge(game.challenger, 1)  # what a verifier does
        assert rig.post().revealed == (1,)  # our batcher answers, revealing the wrong steps
        claimed = game.rollup.revealed_steps(1, game.deployment.block_number)
        result = derived[1].result
        assert result is not None
        proof = find_fraud(result, claimed, derived[1].batch.post_root)
        if kind is FaultKind.TRACE_SHORT:
            assert isinstance(proof, LastStepProof)
        else:
            assert isinstance(proof, StepProof) and result.steps[proof.step_index].kind is StepKind.TX
        game.rollup.prove(game.challenger, 1, proof)
        assert game.rollup.batch_count() == 1 and game.rollup.bond_of(game.proposer.address) == 0

        followed = rig.follow()
        assert followed.rolled_back_to == 1 and node.catching_up is None
        assert node.next_batch_id == 1 and node.head.root == derived[0].batch.post_root
        assert executed(rig, acknowledged) == [TxStatus.PENDING] * 3  # all back in the mempool
        assert [t.hash for t in node.mempool.txs] == acknowledged  # in their order
        (log,) = node.store.sync_log()
        assert (log.kind, log.batch_id) == ("rollback", 1)
        assert b'mlrollup_l1_sync_total{action="rollback"} 1.0' in node.metrics.render()

        game.advance(100)
        rig.build()
        posted = rig.post().posted  # the bond was slashed: the batcher bonds again, then posts
        assert posted and posted[0].batch_id == 1
        again = node.store.batch(1)  # the txs run again at the time they first ran at, not now
        assert again is not None and again.timestamp == ran_at[0] < game.now() - 100
        assert game.rollup.bond_of(game.proposer.address) > 0
        assert executed(rig, acknowledged) == [TxStatus.EXECUTED] * 3
        rig.assert_l1_is_ours()
        head = node.head
        paid = sum(fee_of(raw) for raw in sent)
        assert head.account(a.address).balance == 100 * ETH - ETH - 2 + 5 - paid  # as if no fault
        assert head.account(b.address).balance == 100 * ETH + ETH + 2 - 5 - fee_of(back)
        assert rig.follow().rolled_back_to is None  # in line: nothing more to do
    finally:
        rig.close()


class PostsRightAfterItsScan:
    """An L1 reader after whose scan the batcher (another process) posts: the race of a restart."""

    def __init__(self, reader: L1Reader, post: Callable[[], object]) -> None:
        self.reader, self.post = reader, post

    def poll(self, max_blocks: int | None = None) -> L1Update:
        update = self.reader.poll(max_blocks)
        self.post()
        return update

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reader, name)


def test_a_restart_does_not_read_an_old_fraud_proof_as_deleting_a_batch_posted_since(
    tmp_path: Path, wallets: list[Wallet]
) -> None:
    """After a proven fraud, a restarted sequencer's first read of L1 holds that old deletion; our
    batch posted since, in a block past the read, is not rolled back for it."""
    a, b, _ = wallets
    rig = make_rig(tmp_path, fault=FaultDrill(FaultKind.TRANSFER_BALANCE, at_batch=1))
    game, node = rig.game, rig.node
    try:
        rig.fund([a, b])
        rig.submit([transfer(rig, a, b, 1)])
        rig.build()
        rig.post()
        _, derived = rig.derive_l1()
        result = derived[1].result
        assert result is not None
        game.rollup.challenge(game.challenger, 1)
        rig.post()  # reveals the steps
        claimed = game.rollup.revealed_steps(1, game.deployment.block_number)
        proof = find_fraud(result, claimed, derived[1].batch.post_root)
        assert proof is not None
        game.rollup.prove(game.challenger, 1, proof)
        assert rig.follow().rolled_back_to == 1
        game.advance(100)
        rig.build()
        assert [p.batch_id for p in rig.post().posted] == [1]  # the same txs, honestly
        rig.submit([transfer(rig, b, a, 1)])
        rig.build()  # batch 2: sealed, posted right after the restarted follower's scan

        restarted = Follower(
            node, rig.builder, lambda: cast(L1Batches, PostsRightAfterItsScan(rig.reader(), rig.post))
        )
        assert restarted.follow_once().rolled_back_to is None
        batch = node.store.batch(2)
        assert batch is not None and batch.status == BatchState.POSTED and node.next_batch_id == 3
        assert restarted.follow_once().rolled_back_to is None  # and the next read sees it on L1
        rig.assert_l1_is_ours()
    finally:
        rig.close()


def test_another_proposers_valid_batch_is_adopted_and_ours_rebuilt_on_top(
    tmp_path: Path, wallets: list[Wallet]
) -> None:
    a, b, c = wallets
    rig = make_rig(tmp_path)
    game, node = rig.game, rig.node
    try:
        rig.fund([a, b])
        assert [p.batch_id for p in rig.post().posted] == [0]
        first = [p.hash for p in rig.submit([transfer(rig, a, c, 7)])]
        rig.build()  # our batch 1: sealed, not posted yet
        second = [p.hash for p in rig.submit([transfer(rig, b, c, 8)])]
        rig.build(seal=False)  # our batch 2: open

        # The halting attack of issue 9: a correct but useless batch at our next index.
        ctx = BatchContext(rig.domain, FEES, game.now())
        useless = apply_batch(node.state_at_batch(0), [], [JUNK_TX], ctx)
        assert useless.post_root == useless.pre_state.root
        game.post_result(useless, sender=game.other_proposer)
        assert rig.post().posted == () and rig.batcher.waiting is not None  # it waits, never halts

        followed = rig.follow()
        assert followed.adopted == (1,) and node.catching_up is None
        row = node.store.batch(1)
        assert row is not None and (row.origin, row.status) == (Origin.FOREIGN, BatchState.POSTED)
        assert row.proposer == game.other_proposer.address
        junk = node.store.tx(keccak(JUNK_TX))
        assert junk is not None and junk.sender is None and junk.reason == Reason.DECODE_ERROR
        assert (junk.origin, junk.status, junk.block_number) == (
            Origin.FOREIGN,
            TxStatus.FAILED,
            row.first_block,
        )
        assert [t.hash for t in node.mempool.txs] == first + second  # rebased: to run again on top

        rig.build()
        assert [p.batch_id for p in rig.post().posted] == [2] and rig.batcher.waiting is None
        assert executed(rig, first + second) == [TxStatus.EXECUTED] * 2
        rig.assert_l1_is_ours()
        assert node.head.account(c.address).balance == 15

        app = create_app(node.settings, sequencer=node, run_builder=False)
        app.state.sequencer, app.state.builder = node, rig.builder
        api = TestClient(app)  # no lifespan: the rig's node is served as it is
        got = api.get(f"/v1/txs/0x{keccak(JUNK_TX).hex()}").json()
        assert (got["type"], got["sender"], got["status"], got["receipt"]["batch"]) == (
            "Undecodable",
            None,
            "failed",
            1,
        )
        batch = api.get("/v1/batches/1").json()
        assert (batch["origin"], batch["proposer"]) == ("foreign", game.other_proposer.address)
        assert api.get("/v1/state/proof/0x" + "00" * 32, params={"batch": 1}).status_code == 200
    finally:
        rig.close()


def test_a_fraudulent_foreign_batch_is_refused_until_l1_deletes_it(
    tmp_path: Path, wallets: list[Wallet]
) -> None:
    a, b, c = wallets
    rig = make_rig(tmp_path)
    game, node = rig.game, rig.node
    try:
        rig.fund([a, b])
        rig.post()
        ours = [p.hash for p in rig.submit([transfer(rig, a, c, 7)])]
        rig.build()  # our batch 1, sealed

        ctx = BatchContext(rig.domain, FEES, game.now())
        forged = apply_batch(node.state_at_batch(0), [], [JUNK_TX], ctx)
        game.post_result(forged, post_root=keccak(b"a forged root"), sender=game.other_proposer)

        followed = rig.follow()
        assert followed.adopted == () and followed.refused is not None
        assert followed.refused.verdict.value == "wrong_roots"
        waiting = node.catching_up
        assert waiting is not None and "not adopted" in waiting.reason and "L1 batch 1" in waiting.reason
        later = transfer(rig, b, c, 1)
        metrics = node.metrics.render()
        assert b'mlrollup_l1_sync_total{action="refuse"} 1.0' in metrics
        assert b"mlrollup_catching_up 1.0" in metrics
        with pytest.raises(ApiError) as refused:
            rig.submit([later])
        assert (refused.value.status, refused.value.code) == (503, "catching_up")
        assert refused.value.headers == {"Retry-After": str(waiting.retry_after_s)}
        assert rig.post().posted == ()
        row = node.store.batch(1)
        assert row is not None and row.status == BatchState.SEALED and row.origin == Origin.LOCAL

        app = create_app(node.settings, sequencer=node, run_builder=False)
        app.state.sequencer, app.state.builder, app.state.follower = node, rig.builder, rig.follower
        ready = TestClient(app).get("/readyz")
        assert ready.status_code == 503 and ready.headers["retry-after"] == str(waiting.retry_after_s)
        error = ready.json()["error"]
        assert error["code"] == "catching_up" and error["catching_up"]["reason"] == waiting.reason
        assert error["l1"]["refused"] == waiting.reason

        game.rollup.challenge(game.challenger, 1)  # a verifier; the forger never reveals
        game.advance(RESPONSE + 1)
        game.rollup.settle_timeout(game.watcher, 1)
        assert game.rollup.batch_count() == 1

        followed = rig.follow()
        assert followed.refused is None and node.catching_up is None
        assert [p.batch_id for p in rig.post().posted] == [1]  # ours, as it was sealed
        assert executed(rig, ours) == [TxStatus.EXECUTED]
        rig.submit([later])  # taken now
        rig.build()
        rig.post()
        rig.assert_l1_is_ours()
        assert [e.kind for e in node.store.sync_log()] == ["refuse"]
        assert TestClient(app).get("/readyz").status_code == 200
    finally:
        rig.close()


def test_a_fresh_sequencer_adopts_the_whole_chain_another_proposer_built(
    tmp_path: Path, wallets: list[Wallet]
) -> None:
    a, b, _ = wallets
    rig = make_rig(tmp_path)
    game = rig.game
    try:
        for w in (a, b):
            game.bridge.deposit(game.sender(5), w.address, ETH)
        deposits = [d.deposit for d in game.bridge.deposit_logs(game.deployment.block_number)]
        ctx = BatchContext(rig.domain, FEES, game.now())
        r0 = apply_batch(State(), deposits, [transfer(rig, a, b, 3)], ctx)
        game.post_result(r0, sender=game.other_proposer)
        r1 = apply_batch(r0.post_state, [], [transfer(rig, b, a, 1)], ctx)
        game.post_result(r1, sender=game.other_proposer)
        assert rig.follow().adopted == (0, 1)
        assert rig.node.head.root == r1.post_root and rig.node.height == 2
        assert rig.node.store.next_deposit_index() == 2  # the deposits came with the batch
        rig.submit([transfer(rig, a, b, 1)])  # our own batch goes on top
        rig.build()
        assert [p.batch_id for p in rig.post().posted] == [2]
        rig.assert_l1_is_ours()
    finally:
        rig.close()


def test_a_fraudulent_batch_finalized_unchallenged_is_reported_for_good(
    tmp_path: Path, wallets: list[Wallet]
) -> None:
    a, _, c = wallets
    rig = make_rig(tmp_path)
    game, node = rig.game, rig.node
    try:
        rig.fund([a])
        rig.post()
        forged = apply_batch(
            node.state_at_batch(0), [], [JUNK_TX], BatchContext(rig.domain, FEES, game.now())
        )
        game.post_result(forged, post_root=keccak(b"a forged root"), sender=game.other_proposer)
        assert rig.follow().refused is not None
        game.advance(WINDOW + 1)  # nobody challenges
        game.rollup.finalize(game.watcher)
        assert game.rollup.finalized_count() == 2
        rig.follow()
        waiting = node.catching_up
        assert waiting is not None and "finalized it unchallenged" in waiting.reason
        with pytest.raises(ApiError, match="catching up"):
            rig.submit([transfer(rig, a, c, 1)])
    finally:
        rig.close()
