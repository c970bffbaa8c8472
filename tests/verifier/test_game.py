"""The fraud game played by the verifier on the in-process py-evm chain (`tests.l1.game`: windows of
1000 s to challenge, 100 s to reveal, 200 s to prove; a 1 ETH proposer bond, 40% of it to the
challenger). The test plays the proposer (posting wrong batches, revealing or not) and runs the
verifier's rounds by hand.

`python -m pytest -s tests/verifier/test_game.py -k step` prints the gas and time of each move of a
full dispute.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from web3 import Web3

from l1_contracts.bindings import BatchStatus, ChallengePhase, UnlockedSender
from protocol.fraud import honest_leaves, step_proof
from protocol.hashing import keccak
from tests.l1.game import BOND, CHALLENGER_BOND, PROOF, RESPONSE, SHARE_BPS, WINDOW, Game
from tests.support.wallets import ETH
from tests.verifier.support import L2, disputes, make_node, rounds_until, wrong_step
from verifier.db.models import BatchState, DisputePhase, Outcome
from verifier.node import VerifierNode

REWARD = BOND * SHARE_BPS // 10_000
WIN_PAYOUT = CHALLENGER_BOND + REWARD


def nonce(game: Game, account: UnlockedSender) -> int:
    return int(game.w3.eth.get_transaction_count(Web3.to_checksum_address(account.address)))


def post_honest_then(game: Game, l2: L2) -> None:
    """Batch 0: the deposits and a transfer, posted honestly."""
    game.post_result(l2.transfers(ETH))


def test_honest_batches_are_never_challenged(game: Game, node: VerifierNode) -> None:
    l2 = L2.funded(game)
    before = nonce(game, game.challenger)
    for amounts in ((ETH,), (1, 2, 3), (5,)):
        game.post_result(l2.transfers(*amounts))
        node.tick()
    game.advance(WINDOW)
    game.rollup.finalize(game.owner)
    node.tick()
    rows = node.store.batches(-1, 10)
    assert [(r.batch_index, r.verdict, r.status) for r in rows] == [
        (i, "valid", BatchState.FINALIZED) for i in range(3)
    ]
    assert rows[-1].honest_post_root == rows[-1].post_root == l2.state.root
    assert disputes(node) == [] and nonce(game, game.challenger) == before  # nothing sent
    assert node.watcher is not None and node.watcher.derivation.derived == []  # settled: memory freed
    assert node.status.caught_up and node.status.finalized_count == 3


def test_a_wrong_step_is_challenged_proven_slashed_and_paid(
    game: Game, node: VerifierNode, capsys: pytest.CaptureFixture[str]
) -> None:
    """The full dispute: challenge, the proposer's reveal, proveFraud of the wrong step, the slash,
    the payout withdrawn; then the honest chain goes on from the re-appended batch."""
    r = game.rollup
    l2 = L2.funded(game)
    post_honest_then(game, l2)
    node.tick()
    good = l2.state
    wrong = l2.transfers(1, 2, 3)
    leaves, post = wrong_step(wrong, 1)
    t0 = time.perf_counter()
    index = game.post_result(wrong, leaves=leaves, post_root=post)
    node.tick()
    t_challenge = time.perf_counter() - t0
    (d,) = disputes(node)
    assert (d.batch_index, d.ours, d.phase, d.verdict) == (
        1,
        True,
        DisputePhase.AWAITING_REVEAL,
        "wrong_roots",
    )
    assert r.get_challenge(index).challenger == game.challenger.address
    node.tick()  # waiting for the reveal: nothing is sent again
    assert len(disputes(node)) == 1 and nonce(game, game.challenger) == 1  # the challenge, nothing else

    balance = game.balance(game.challenger.address)
    game.reveal(index, leaves)
    t1 = time.perf_counter()
    node.tick()
    t_prove = time.perf_counter() - t1
    (d,) = disputes(node)
    assert (d.phase, d.outcome, d.resolution, d.step_index) == (
        DisputePhase.RESOLVED,
        Outcome.WON,
        "fraud_proven",
        1,
    )
    assert d.proof_kind == "step" and d.proof_tx == d.resolved_tx and d.revealed_steps == len(leaves)
    assert d.payout == WIN_PAYOUT and d.slashed == BOND and d.withdraw_tx is not None
    assert r.bond_of(game.proposer.address) == 0 and r.batch_count() == index
    assert r.payout_of(game.challenger.address) == 0
    gas_price = int(game.w3.eth.gas_price)
    spent = (d.proof_gas or 0) + (d.withdraw_gas or 0)
    assert game.balance(game.challenger.address) >= balance + WIN_PAYOUT - 2 * spent * gas_price
    assert node.store.payouts_total() == WIN_PAYOUT

    # the deletion reaches the watcher; the honest proposer appends batch 1 again
    node.tick()
    assert [(b.batch_index, b.status) for b in node.store.batches(-1, 10)] == [
        (0, BatchState.LIVE),
        (1, BatchState.DELETED),
    ]
    l2.rebase(good)
    game.post_result(l2.transfers(1, 2, 3), sender=game.other_proposer)
    node.tick()
    rows = node.store.batches(-1, 10)
    assert (rows[-1].batch_index, rows[-1].verdict, rows[-1].status) == (1, "valid", BatchState.LIVE)
    assert len(disputes(node)) == 1
    with capsys.disabled():
        print(
            f"\nDISPUTE gas: challenge {d.challenge_gas}, proveFraud {d.proof_gas} (witness of step 1 of "
            f"{len(leaves)}), withdrawPayout {d.withdraw_gas}; the proposer's reveal "
            f"{_reveal_gas(game, index)}. Time: judge + challenge {t_challenge * 1000:.0f} ms, "
            f"read the reveal + build + send the proof + record + withdraw {t_prove * 1000:.0f} ms"
        )


def _reveal_gas(game: Game, index: int) -> int:
    logs = game.rollup.contract.events["StepsRevealed"]().get_logs(from_block=0)
    tx = next(log["transactionHash"] for log in logs if log["args"]["batchIndex"] == index)
    return int(game.w3.eth.get_transaction_receipt(tx)["gasUsed"])


def test_a_wrong_post_root_is_a_bad_last_step_and_later_batches_go_with_it(
    game: Game, node: VerifierNode
) -> None:
    """An honest trace with a forged post root: proveBadLastStep. The batch after it builds on the
    forged root (off_chain) and is not challenged: the win deletes both."""
    r = game.rollup
    l2 = L2.funded(game)
    post_honest_then(game, l2)
    forged = l2.transfers(7)
    game.post_result(forged, post_root=keccak(b"forged"))
    game.post_trace([keccak(b"x")], sender=game.other_proposer)  # on top of the forged root
    node.tick()
    assert [b.verdict for b in node.store.batches(-1, 10)] == ["valid", "wrong_roots", "off_chain"]
    (d,) = disputes(node)
    assert d.batch_index == 1 and r.get_challenge(2).phase == ChallengePhase.NONE
    game.reveal(1, honest_leaves(forged))
    node.tick()
    (d,) = disputes(node)
    assert (d.outcome, d.resolution, d.proof_kind) == (Outcome.WON, "bad_last_step", "last_step")
    assert r.batch_count() == 1 and r.bond_of(game.other_proposer.address) == BOND  # not its fault
    node.tick()
    assert [b.status for b in node.store.batches(-1, 10)] == [
        BatchState.LIVE,
        BatchState.DELETED,
        BatchState.DELETED,
    ]


def test_a_proposer_that_never_reveals_loses_by_timeout(game: Game, node: VerifierNode) -> None:
    r = game.rollup
    l2 = L2.funded(game)
    game.post_result(l2.transfers(ETH), post_root=keccak(b"forged"))
    node.tick()
    game.advance(RESPONSE - 5)
    node.tick()  # before the deadline: wait
    assert r.get_challenge(0).phase == ChallengePhase.AWAITING_REVEAL
    game.advance(5)
    node.tick()
    (d,) = disputes(node)
    assert (d.outcome, d.resolution) == (Outcome.WON, "reveal_timeout")
    assert d.timeout_tx == d.resolved_tx and (d.timeout_gas or 0) > 0 and d.withdraw_tx is not None
    assert r.bond_of(game.proposer.address) == 0 and r.batch_count() == 0


def test_a_second_verifier_follows_the_first_challenge_and_may_prove_it(game: Game, tmp_path: Path) -> None:
    """Two verifiers on one chain: the second finds the first one's challenge and follows it; it sends
    the proof first (anyone may), and the Rollup pays the challenger. Neither errs."""
    a = make_node(game, tmp_path / "a")
    b = make_node(game, tmp_path / "b", sender=game.sender(6))
    try:
        l2 = L2.funded(game)
        wrong = l2.transfers(ETH, 1)
        leaves, post = wrong_step(wrong, 1)
        game.post_result(wrong, leaves=leaves, post_root=post)
        a.tick()
        b.tick()
        (da,), (db,) = disputes(a), disputes(b)
        assert da.ours and not db.ours and db.challenger == game.challenger.address
        assert db.challenge_tx == da.challenge_tx and db.challenge_gas is None
        game.reveal(0, leaves)
        b.tick()  # b proves a's challenge
        a.tick()  # a finds it won, and withdraws
        (da,), (db,) = disputes(a), disputes(b)
        assert da.outcome == db.outcome == Outcome.WON
        assert db.proof_tx is not None and db.proof_tx == da.resolved_tx and da.proof_tx is None
        assert da.payout == WIN_PAYOUT and db.payout is None
        assert a.store.payouts_total() == WIN_PAYOUT and b.store.payouts() == []
        assert a.status.failures == b.status.failures == 0
    finally:
        a.close()
        b.close()


def test_lost_races_are_not_errors(
    game: Game, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A verifier whose view is one move behind: its challenge meets AlreadyChallenged, its proof
    WrongChallengePhase; both are the other verifier's wins, not failures."""
    a = make_node(game, tmp_path / "a")
    b = make_node(game, tmp_path / "b", sender=game.sender(6))
    try:
        l2 = L2.funded(game)
        wrong = l2.transfers(ETH)
        leaves, post = wrong_step(wrong, 0)
        game.post_result(wrong, leaves=leaves, post_root=post)
        b.connect()
        assert b.game is not None and b.watcher is not None
        b.watcher.poll()  # b's view: the batch, not yet challenged
        target = b.watcher.first_fraud()
        assert target is not None
        a.tick()  # a challenges
        stale = b.game.rollup.get_challenge(0)
        assert stale.phase == ChallengePhase.AWAITING_REVEAL
        b_rollup = b.game.rollup
        unchallenged = type(stale)(0, "0x" + "00" * 20, 0, ChallengePhase.NONE, 0)
        monkeypatch.setattr(b_rollup, "get_challenge", lambda index: unchallenged)
        with caplog.at_level(logging.INFO, logger="verifier"):
            b.game.play(target, b.game._now())  # sends a challenge: refused AlreadyChallenged
        monkeypatch.undo()
        assert "batch 0: another challenger was first; following its challenge" in caplog.messages
        assert nonce(game, game.sender(6)) == 0  # the preflight refused it: nothing mined
        game.reveal(0, leaves)
        a_rollup = a.game.rollup if a.game is not None else None
        assert a_rollup is not None and a.watcher is not None
        a.watcher.poll()
        stale_batch, stale_challenge = a_rollup.get_batch(0), a_rollup.get_challenge(0)
        b.tick()  # follows a's challenge (its decided challenge row becomes that one) and proves it
        (db,) = disputes(b)
        assert not db.ours and db.phase == DisputePhase.RESOLVED and db.proof_tx is not None
        # a's view is one move behind: it sends the proof of a batch already deleted
        target = a.watcher.first_fraud()
        assert target is not None and a.game is not None
        monkeypatch.setattr(a_rollup, "get_batch", lambda index: stale_batch)
        monkeypatch.setattr(a_rollup, "get_challenge", lambda index: stale_challenge)
        before = nonce(game, game.challenger)
        with caplog.at_level(logging.INFO, logger="verifier"):
            a.game.play(target, a.game._now())  # refused WrongChallengePhase at the preflight
        monkeypatch.undo()
        assert "batch 0: another verifier's proof came first" in caplog.messages
        assert nonce(game, game.challenger) == before
        a.tick()
        (da,) = disputes(a)
        assert da.outcome == Outcome.WON and da.proof_tx is None and da.proof_kind is None
        assert a.status.failures == b.status.failures == 0
    finally:
        a.close()
        b.close()


def test_a_restart_mid_dispute_resumes_without_challenging_twice(game: Game, tmp_path: Path) -> None:
    l2 = L2.funded(game)
    wrong = l2.transfers(ETH, 2)
    leaves, post = wrong_step(wrong, 1)
    game.post_result(wrong, leaves=leaves, post_root=post)
    first = make_node(game, tmp_path)
    first.tick()
    (d,) = disputes(first)
    first.db.dispose()  # killed: no shutdown of its own
    sent = nonce(game, game.challenger)

    again = make_node(game, tmp_path)
    try:
        again.tick()
        (d2,) = disputes(again)
        assert d2.id == d.id and d2.challenge_tx == d.challenge_tx and nonce(game, game.challenger) == sent
        game.reveal(0, leaves)
        again.tick()
        (d2,) = disputes(again)
        assert d2.outcome == Outcome.WON and d2.withdraw_tx is not None
        assert nonce(game, game.challenger) == sent + 2  # the proof and the withdrawal
    finally:
        again.close()


def test_a_challenge_mined_but_not_recorded_is_recovered_from_l1(game: Game, tmp_path: Path) -> None:
    """Killed after deciding (the row) and sending (the challenge mined), before recording the
    transaction: the restart finds our challenge on L1 and sends nothing."""
    l2 = L2.funded(game)
    game.post_result(l2.transfers(ETH), post_root=keccak(b"forged"))
    node = make_node(game, tmp_path)
    try:
        node.tick()
        (d,) = disputes(node)
        node.store.update_dispute(
            d.id, phase=DisputePhase.CHALLENGING, challenge_tx=None, challenge_block=None, challenge_gas=None
        )
        restarted = make_node(game, tmp_path)
        sent = nonce(game, game.challenger)
        restarted.tick()
        (d2,) = disputes(restarted)
        assert d2.id == d.id and d2.ours and d2.phase == DisputePhase.AWAITING_REVEAL
        assert d2.challenge_tx == d.challenge_tx and d2.challenge_gas == d.challenge_gas
        assert nonce(game, game.challenger) == sent
        restarted.close()
    finally:
        node.close()


def test_a_decided_challenge_not_sent_is_sent_once(game: Game, tmp_path: Path) -> None:
    l2 = L2.funded(game)
    game.post_result(l2.transfers(ETH), post_root=keccak(b"forged"))
    node = make_node(game, tmp_path)
    try:
        assert node.watcher is None
        node.connect()
        assert node.watcher is not None
        node.watcher.poll()
        target = node.watcher.first_fraud()
        assert target is not None
        node.store.open_dispute(  # decided, then killed before the transaction left
            batch_index=0,
            batch_tx_hash=target.batch.l1_tx_hash,
            verdict="wrong_roots",
            challenger=game.challenger.address,
            ours=True,
            phase=DisputePhase.CHALLENGING,
        )
        node.tick()
        node.tick()
        (d,) = disputes(node)
        assert d.phase == DisputePhase.AWAITING_REVEAL and d.challenge_tx is not None
        assert nonce(game, game.challenger) == 1
    finally:
        node.close()


def test_a_lost_challenge_is_retried_while_the_window_is_open(game: Game, node: VerifierNode) -> None:
    """The verifier was away for the whole proof window: the proposer's timeout took the challenger's
    bond. Back, it records the loss and challenges again (the window is still open), and wins."""
    r = game.rollup
    l2 = L2.funded(game)
    wrong = l2.transfers(ETH)
    leaves, post = wrong_step(wrong, 1)
    game.post_result(wrong, leaves=leaves, post_root=post)
    node.tick()
    game.reveal(0, leaves)
    game.advance(PROOF)
    r.settle_timeout(game.proposer, 0)
    rounds_until(node, lambda: r.get_challenge(0).phase == ChallengePhase.AWAITING_REVEAL)
    first, second = disputes(node)
    assert (first.outcome, first.resolution, first.payout) == (Outcome.LOST, "proof_timeout", 0)
    assert second.ours and second.phase == DisputePhase.AWAITING_REVEAL
    game.reveal(0, leaves)
    node.tick()
    assert [d.outcome for d in disputes(node)] == [Outcome.LOST, Outcome.WON]


def test_a_wrong_batch_past_its_window_is_reported_missed(game: Game, node: VerifierNode) -> None:
    l2 = L2.funded(game)
    game.post_result(l2.transfers(ETH), post_root=keccak(b"forged"))
    game.advance(WINDOW)
    node.tick()
    node.tick()
    (d,) = disputes(node)
    assert (d.outcome, d.ours, d.challenge_tx) == (Outcome.MISSED, False, None)
    assert nonce(game, game.challenger) == 0


def test_without_a_key_it_watches_follows_and_reports(
    game: Game, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    node = make_node(game, tmp_path, watch_only=True)
    try:
        l2 = L2.funded(game)
        game.post_result(l2.transfers(ETH), post_root=keccak(b"forged"))
        with caplog.at_level(logging.INFO, logger="verifier"):
            node.tick()
            node.tick()
        assert sum("no challenger key is set: watching only" in m for m in caplog.messages) == 1
        assert disputes(node) == []
        game.rollup.challenge(game.watcher, 0)
        node.tick()
        (d,) = disputes(node)
        assert d.challenger == game.watcher.address and not d.ours
        game.advance(RESPONSE)
        node.tick()
        assert game.rollup.get_challenge(0).phase == ChallengePhase.AWAITING_REVEAL  # sends nothing
        game.rollup.settle_timeout(game.watcher, 0)
        node.tick()
        (d,) = disputes(node)
        assert (d.outcome, d.payout, d.slashed) == (Outcome.WON, None, BOND)
    finally:
        node.close()


def test_a_proof_the_rollup_refuses_is_recorded_and_not_retried(
    game: Game, node: VerifierNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If our execution disagreed with the one-step prover (a bug on one side), the refused proof is
    recorded with the Rollup's reason; the proposer wins by timeout; the batch is not challenged again."""
    import verifier.game

    l2 = L2.funded(game)
    wrong = l2.transfers(ETH, 1)
    leaves, post = wrong_step(wrong, 2)
    game.post_result(wrong, leaves=leaves, post_root=post)
    node.tick()
    game.reveal(0, leaves)
    monkeypatch.setattr(
        verifier.game, "find_fraud", lambda result, claimed, root: step_proof(result, claimed, 0)
    )
    node.tick()
    (d,) = disputes(node)
    assert d.proof_kind == "refused" and "StepCorrect" in d.note and d.proof_tx is None
    node.tick()  # not sent again
    game.advance(PROOF)
    game.rollup.settle_timeout(game.proposer, 0)
    node.tick()
    node.tick()
    (d,) = disputes(node)
    assert d.outcome == Outcome.UNPROVABLE and game.rollup.get_batch(0).status == BatchStatus.PENDING
    assert nonce(game, game.challenger) == 1  # the one challenge


def test_nothing_is_sent_while_a_transaction_of_ours_is_pending(
    game: Game, node: VerifierNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction whose receipt we stopped waiting for may still be mined: the next move waits."""
    l2 = L2.funded(game)
    wrong = l2.transfers(ETH)
    leaves, post = wrong_step(wrong, 1)
    game.post_result(wrong, leaves=leaves, post_root=post)
    node.connect()
    assert node.game is not None
    monkeypatch.setattr(node.game, "_tx_pending", lambda: True)
    node.tick()
    assert nonce(game, game.challenger) == 0
    monkeypatch.undo()
    node.tick()
    game.reveal(0, leaves)
    monkeypatch.setattr(node.game, "_tx_pending", lambda: True)
    node.tick()
    assert nonce(game, game.challenger) == 1 and disputes(node)[0].phase == DisputePhase.AWAITING_PROOF
    monkeypatch.undo()
    node.tick()
    assert disputes(node)[0].outcome == Outcome.WON
