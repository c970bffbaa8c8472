"""The fraud-proof game's rules and money, on in-process eth-tester with the deployed one-step prover:
challenges, reveals, both timeouts, payouts and burns, the rollback of later batches and their
challenges, finalization held by a challenge, and an honest proposer and the Bridge after a loss.

No test here needs the prover to run: fraud proven by re-execution is in test_fraud_game_steps.py,
the proof checks around the prover call in test_fraud_game_bookkeeping.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import Web3

from l1_contracts import errors
from l1_contracts.artifacts import load_artifact
from l1_contracts.bindings import BatchStatus, ChallengePhase, Resolution, transact
from protocol.fraud import LastStepProof
from protocol.hashing import merkle_root
from protocol.signing import Domain
from tests.l1.game import (
    BOND,
    CHALLENGER_BOND,
    PROOF,
    RESPONSE,
    SHARE_BPS,
    WINDOW,
    Game,
    leaves_for,
    make_game,
)
from tests.support.l1 import deploy_raw, events, gas_cost, reverted


@pytest.fixture(scope="module")
def deployed() -> Game:
    """One deployment for the module; `game` reverts it after each test."""
    return make_game()


@pytest.fixture
def game(deployed: Game) -> Iterator[Game]:
    with reverted(deployed.tester):
        yield deployed


def test_parameters_and_domain(game: Game) -> None:
    r, d = game.rollup, game.deployment
    assert r.prover_address() == d.prover and game.w3.eth.get_code(Web3.to_checksum_address(d.prover))
    assert (r.challenger_bond(), r.response_window(), r.proof_window(), r.challenger_share_bps()) == (
        CHALLENGER_BOND,
        RESPONSE,
        PROOF,
        SHARE_BPS,
    )
    assert (d.challenger_bond, d.response_window, d.proof_window, d.challenger_share_bps) == (
        CHALLENGER_BOND,
        RESPONSE,
        PROOF,
        SHARE_BPS,
    )
    # the separator the prover checks signatures with is the one L2 wallets sign with
    assert r.domain_separator() == Domain(d.chain_id, bytes.fromhex(d.rollup[2:])).separator


# --- challenge -------------------------------------------------------------------------------------


def test_challenge_rules(game: Game) -> None:
    r, c = game.rollup, game.challenger
    with pytest.raises(errors.NoSuchBatch):
        r.challenge(c, 0)
    game.post_trace(leaves_for(b"a", 3))
    game.post_trace(leaves_for(b"b", 2))
    with pytest.raises(errors.WrongChallengerBond) as info:
        r.challenge(c, 0, value=CHALLENGER_BOND - 1)
    assert info.value.error_args == {"sent": CHALLENGER_BOND - 1, "required": CHALLENGER_BOND}
    receipt = r.challenge(c, 0)
    now = int(game.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    assert events(r.contract, "Challenged", receipt) == [
        {"batchIndex": 0, "challenger": c.address, "revealDeadline": now + RESPONSE}
    ]
    ch = r.get_challenge(0)
    assert (ch.challenger, ch.deadline, ch.phase, ch.step_count) == (
        c.address,
        now + RESPONSE,
        ChallengePhase.AWAITING_REVEAL,
        0,
    )
    assert r.get_batch(0).status == BatchStatus.CHALLENGED
    assert game.balance(r.address) == 2 * BOND + CHALLENGER_BOND
    with pytest.raises(errors.AlreadyChallenged):
        r.challenge(game.watcher, 0)
    # the window passes: batch 1 can no longer be challenged, and nothing finalizes behind batch 0
    closes = r.get_batch(1).l1_timestamp + WINDOW
    game.advance(closes - game.now())
    with pytest.raises(errors.ChallengeWindowClosed) as info2:
        r.challenge(c, 1)
    assert info2.value.error_args == {"batchIndex": 1, "closedAt": closes}
    assert r.finalizable() == 0
    r.finalize(game.owner)
    assert r.finalized_count() == 0


def test_zero_window_batches_cannot_be_challenged() -> None:
    game = make_game(window=0)
    game.post_trace(leaves_for(b"z", 1))
    with pytest.raises(errors.ChallengeWindowClosed):
        game.rollup.challenge(game.challenger, 0)


# --- reveal ----------------------------------------------------------------------------------------


def test_reveal_rules(game: Game) -> None:
    r = game.rollup
    leaves = leaves_for(b"t", 5)
    game.post_trace(leaves)
    with pytest.raises(errors.WrongChallengePhase) as info:
        game.reveal(0, leaves)
    assert info.value.error_args == {"batchIndex": 0, "phase": ChallengePhase.NONE}
    r.challenge(game.challenger, 0)
    with pytest.raises(errors.EmptyTrace):
        game.reveal(0, [])
    with pytest.raises(errors.TraceRootMismatch) as info2:
        game.reveal(0, leaves[:4])
    assert info2.value.error_args == {"traceRoot": merkle_root(leaves), "computed": merkle_root(leaves[:4])}
    # only the proposer answers: the root does not fix the count (5 leaves and the same 5 with a zero
    # leaf after them share a root), so another revealer could make an honest trace look wrong
    assert merkle_root([*leaves, b"\x00" * 32]) == merkle_root(leaves)
    with pytest.raises(errors.NotBatchProposer) as info3:
        game.reveal(0, leaves, game.watcher)
    assert info3.value.error_args == {"batchIndex": 0, "proposer": game.proposer.address}
    receipt = game.reveal(0, leaves)
    now = int(game.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    assert events(r.contract, "StepsRevealed", receipt) == [
        {"batchIndex": 0, "revealer": game.proposer.address, "stepCount": 5, "proofDeadline": now + PROOF}
    ]
    ch = r.get_challenge(0)
    assert (ch.phase, ch.step_count, ch.deadline) == (ChallengePhase.AWAITING_PROOF, 5, now + PROOF)
    assert r.revealed_steps(0) == leaves
    with pytest.raises(errors.WrongChallengePhase):
        game.reveal(0, leaves)


def test_reveal_after_deadline_rejected(game: Game) -> None:
    leaves = leaves_for(b"d", 2)
    game.post_trace(leaves)
    game.rollup.challenge(game.challenger, 0)
    game.advance(RESPONSE)
    with pytest.raises(errors.DeadlinePassed):
        game.reveal(0, leaves)


def test_revealed_steps_not_found(game: Game) -> None:
    game.post_trace(leaves_for(b"n", 2))
    with pytest.raises(errors.L1Error):
        game.rollup.revealed_steps(0)


# --- the proposer does not reveal: it loses --------------------------------------------------------


def test_reveal_timeout_slashes_and_rolls_back(game: Game) -> None:
    r, p, c, other = game.rollup, game.proposer, game.challenger, game.other_proposer
    game.post_trace(leaves_for(b"0", 2))  # batch 0: stays
    game.post_trace(leaves_for(b"1", 2))  # batch 1: challenged, the proposer stays silent
    game.post_trace(leaves_for(b"2", 2), sender=other)  # batch 2: built on 1, rolled back with it
    good_root = r.get_batch(0).post_root
    r.challenge(c, 1)
    with pytest.raises(errors.DeadlineNotReached):
        r.settle_timeout(game.watcher, 1)
    game.advance(RESPONSE)
    receipt = r.settle_timeout(game.watcher, 1)  # anyone may settle
    reward = BOND * SHARE_BPS // 10_000
    assert events(r.contract, "ProposerSlashed", receipt) == [
        {
            "proposer": p.address,
            "batchIndex": 1,
            "amount": BOND,
            "toChallenger": reward,
            "burned": BOND - reward,
        }
    ]
    assert events(r.contract, "ChallengeResolved", receipt) == [
        {"batchIndex": 1, "challenger": c.address, "resolution": Resolution.REVEAL_TIMEOUT, "stepIndex": 0}
    ]
    assert [e["index"] for e in events(r.contract, "BatchDeleted", receipt)] == [2, 1]
    assert r.batch_count() == 1 and r.last_root() == good_root
    assert r.get_challenge(1).phase == ChallengePhase.NONE
    # the proposer's bond is gone; it is no longer bonded; batch 0 still counts as its pending batch
    assert r.bond_of(p.address) == 0 and r.pending_batches_of(p.address) == 1
    assert r.pending_batches_of(other.address) == 0 and r.bond_of(other.address) == BOND
    with pytest.raises(errors.NotBonded):
        game.post_trace(leaves_for(b"x", 1))
    # the money: the challenger's bond and its share are credited; the rest is burned, locked here
    assert r.payout_of(c.address) == CHALLENGER_BOND + reward
    assert r.burned_total() == BOND - reward
    before = game.balance(c.address)
    paid = r.withdraw_payout(c)
    assert game.balance(c.address) == before + CHALLENGER_BOND + reward - gas_cost(paid)
    assert events(r.contract, "PayoutWithdrawn", paid) == [
        {"to": c.address, "amount": CHALLENGER_BOND + reward}
    ]
    with pytest.raises(errors.NothingToWithdraw):
        r.withdraw_payout(c)
    assert game.balance(r.address) == BOND + (BOND - reward)  # the other proposer's bond, the burn
    # an honest proposer continues from the last good root
    index = game.post_trace(leaves_for(b"h", 1), sender=other)
    assert index == 1 and r.prev_root_of(1) == good_root
    game.advance(WINDOW)
    r.finalize(game.owner)
    assert r.finalized_count() == 2


# --- the challenger does not prove: it loses -------------------------------------------------------


def test_proof_timeout_pays_the_proposer_and_the_batch_finalizes(game: Game) -> None:
    r, p, c = game.rollup, game.proposer, game.challenger
    leaves = leaves_for(b"p", 3)
    game.post_trace(leaves)
    game.post_trace(leaves_for(b"q", 1))
    r.challenge(c, 0)
    game.reveal(0, leaves)
    with pytest.raises(errors.DeadlineNotReached):
        r.settle_timeout(game.watcher, 0)
    game.advance(PROOF)
    with pytest.raises(errors.DeadlinePassed):  # too late to prove: checked before anything else
        r.prove_bad_last_step(c, 0, _dummy_last_step(3))
    receipt = r.settle_timeout(game.watcher, 0)
    assert events(r.contract, "ChallengeResolved", receipt) == [
        {"batchIndex": 0, "challenger": c.address, "resolution": Resolution.PROOF_TIMEOUT, "stepIndex": 0}
    ]
    assert events(r.contract, "ProposerSlashed", receipt) == []
    assert r.get_batch(0).status == BatchStatus.PENDING and r.batch_count() == 2
    assert r.payout_of(p.address) == CHALLENGER_BOND and r.payout_of(c.address) == 0
    assert r.bond_of(p.address) == BOND and r.burned_total() == 0
    before = game.balance(p.address)
    paid = r.withdraw_payout(p)
    assert game.balance(p.address) == before + CHALLENGER_BOND - gas_cost(paid)
    with pytest.raises(errors.WrongChallengePhase):
        r.settle_timeout(game.watcher, 0)
    # once its window has passed, the batch (and the one behind it) finalizes
    game.advance(r.get_batch(1).l1_timestamp + WINDOW - game.now())
    r.finalize(game.owner)
    assert r.finalized_count() == 2 and r.is_finalized(0)


def test_a_defended_batch_may_be_challenged_again_inside_its_window(game: Game) -> None:
    r = game.rollup
    leaves = leaves_for(b"r", 2)
    game.post_trace(leaves)
    r.challenge(game.challenger, 0)
    game.reveal(0, leaves)
    game.advance(PROOF)
    r.settle_timeout(game.watcher, 0)
    r.challenge(game.watcher, 0)  # the window does not restart, but it is still open
    assert r.get_challenge(0).challenger == game.watcher.address
    game.reveal(0, leaves)
    game.advance(WINDOW)
    r.settle_timeout(game.owner, 0)
    assert r.payout_of(game.proposer.address) == 2 * CHALLENGER_BOND
    with pytest.raises(errors.ChallengeWindowClosed):
        r.challenge(game.challenger, 0)
    r.finalize(game.owner)
    assert r.is_finalized(0)


# --- rollback of later challenges, payouts that cannot block the game -----------------------------


def test_rollback_ends_later_challenges_with_their_bonds_back(game: Game) -> None:
    r, c, w = game.rollup, game.challenger, game.watcher
    game.post_trace(leaves_for(b"a", 1))
    later = leaves_for(b"b", 1)
    game.post_trace(later, sender=game.other_proposer)
    r.challenge(w, 1)
    game.reveal(1, later, game.other_proposer)  # its own batch
    r.challenge(c, 0)
    game.advance(RESPONSE)
    receipt = r.settle_timeout(game.owner, 0)
    resolved = events(r.contract, "ChallengeResolved", receipt)
    assert resolved == [
        {"batchIndex": 0, "challenger": c.address, "resolution": Resolution.REVEAL_TIMEOUT, "stepIndex": 0},
        {
            "batchIndex": 1,
            "challenger": w.address,
            "resolution": Resolution.BATCH_ROLLED_BACK,
            "stepIndex": 0,
        },
    ]
    assert r.payout_of(w.address) == CHALLENGER_BOND  # bond back, no reward
    assert r.bond_of(game.other_proposer.address) == BOND  # its batch was deleted, not proven wrong
    assert r.get_challenge(1).phase == ChallengePhase.NONE and r.batch_count() == 0
    [resolved0, resolved1] = r.challenges_resolved(game.deployment.block_number)
    assert (resolved0.index, resolved0.resolution) == (0, Resolution.REVEAL_TIMEOUT)
    assert (resolved1.index, resolved1.resolution) == (1, Resolution.BATCH_ROLLED_BACK)


def test_a_challenger_that_refuses_ether_cannot_block_its_own_loss(game: Game) -> None:
    """Payouts are credited, not pushed: a challenger contract without `receive` still loses its bond
    to the proposer, and an honest proposer's payout does not depend on it."""
    r = game.rollup
    rejecter = game.w3.eth.contract(
        address=Web3.to_checksum_address(deploy_raw(game.w3, "EtherRejecterHarness", [], [], game.owner)),
        abi=load_artifact("EtherRejecterHarness").abi,
    )
    leaves = leaves_for(b"e", 2)
    game.post_trace(leaves)
    call = bytes.fromhex(r.contract.encode_abi("challenge", args=[0])[2:])
    data = bytes.fromhex(rejecter.encode_abi("execute", args=[r.address, call])[2:])
    transact(game.w3, game.owner, to=rejecter.address, data=data, value=CHALLENGER_BOND, gas=200_000)
    assert r.get_challenge(0).challenger == rejecter.address
    game.reveal(0, leaves)
    game.advance(PROOF)
    r.settle_timeout(game.watcher, 0)
    assert r.payout_of(game.proposer.address) == CHALLENGER_BOND
    r.withdraw_payout(game.proposer)


def _dummy_last_step(count: int) -> LastStepProof:
    return LastStepProof(count, b"\x00" * 32, (), 0, 0, b"\x00" * 32, b"\x00" * 32)
