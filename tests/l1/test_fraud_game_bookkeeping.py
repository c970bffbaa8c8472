"""The checks `proveFraud` makes around the one-step prover, with `TestStepProver` (src/test/) standing
in for it: the witness is `abi.encode(pre, post, H(ctx))`, so each check can be hit on its own, and the
stand-in asserts the `StepContext` the Rollup built. Fraud proven by the real prover, step kind by step
kind, is in test_fraud_game_steps.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_abi.abi import encode as abi_encode

from l1_contracts import errors
from l1_contracts.bindings import ChallengePhase, Resolution
from l1_contracts.bindings.rollup import StepContextInfo
from l1_contracts.bindings.tx import default_decoder
from protocol.fraud import StepProof
from protocol.hashing import ZERO32, keccak, merkle_proof
from protocol.signing import Domain
from protocol.transition import step_hash
from protocol.witness import BatchHeaderCommitment, StepWitness
from tests.l1.game import BOND, CHALLENGER_BOND, SHARE_BPS, Game, leaves_for, make_game
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT_ADDRESS
from tests.support.l1 import events, reverted

GAS = 1_000_000


@pytest.fixture(scope="module")
def deployed() -> Game:
    """One deployment for the module; `game` reverts it after each test."""
    return make_game(stand_in_prover=True)


@pytest.fixture
def game(deployed: Game) -> Iterator[Game]:
    with reverted(deployed.tester):
        yield deployed


def _ctx_hash(ctx: StepContextInfo) -> bytes:
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "uint64", "uint64", "address", "uint64", "address"],
            [
                ctx.domain_separator,
                ctx.batch_data_hash,
                ctx.deposit_start,
                ctx.deposit_end,
                ctx.bridge,
                ctx.fee_price,
                ctx.fee_recipient,
            ],
        )
    )


def _proof(
    leaves: list[bytes], step: int, pre: bytes, post: bytes, ctx: bytes, *, post_leaf: bytes | None = None
) -> StepProof:
    """A `StepProof` over the revealed `leaves` whose stand-in witness returns `(pre, post)`."""
    dummy = StepWitness(0, BatchHeaderCommitment(1, 0, 0, ZERO32), 0, ZERO32, 0, None, None, None, None, ())
    return StepProof(
        step_index=step,
        step_count=len(leaves),
        pre_leaf=leaves[step - 1] if step else ZERO32,
        pre_proof=tuple(merkle_proof(leaves, step - 1)) if step else (),
        post_leaf=leaves[step] if post_leaf is None else post_leaf,
        post_proof=tuple(merkle_proof(leaves, step)),
        witness=dummy,
        witness_bytes=abi_encode(["bytes32", "bytes32", "bytes32"], [pre, post, ctx]),
        honest_leaf=post,
    )


def test_step_context_is_built_from_storage(game: Game) -> None:
    r = game.rollup
    for i in range(3):
        game.bridge.deposit(game.sender(5), game.sender(6).address, 10**15 + i)
    game.post_trace(leaves_for(b"a", 2), deposits=1)
    game.post_trace(leaves_for(b"b", 2), deposits=3)
    ctx = r.step_context(1)
    d = game.deployment
    assert ctx.domain_separator == Domain(d.chain_id, bytes.fromhex(d.rollup[2:])).separator
    assert ctx.batch_data_hash == r.get_batch(1).data_hash
    assert (ctx.deposit_start, ctx.deposit_end, ctx.bridge) == (1, 3, d.bridge)
    # the fee schedule: the Rollup's immutables, as the deployment set them
    assert (
        (ctx.fee_price, ctx.fee_recipient)
        == (d.fee_price, d.fee_recipient)
        == (FEE_PRICE, FEE_RECIPIENT_ADDRESS)
    )
    assert (r.fee_price(), r.fee_recipient()) == (FEE_PRICE, FEE_RECIPIENT_ADDRESS)
    assert r.step_context(0).deposit_start == 0
    with pytest.raises(errors.NoSuchBatch):
        r.step_context(2)


def test_prove_fraud_rejections_and_success(game: Game) -> None:
    r, c, w = game.rollup, game.challenger, game.watcher
    leaves = leaves_for(b"s", 5)
    game.post_trace(leaves)
    ctx = _ctx_hash(r.step_context(0))
    honest = keccak(b"honest post")
    r.challenge(c, 0)
    with pytest.raises(errors.WrongChallengePhase):  # nothing revealed yet
        r.prove_fraud(c, 0, _proof(leaves, 2, leaves[1], honest, ctx), gas=GAS)
    game.reveal(0, leaves)
    good = _proof(leaves, 2, leaves[1], honest, ctx)
    # a step at or past the revealed count
    past = StepProof(
        5, 5, leaves[4], good.pre_proof, leaves[4], good.post_proof, good.witness, good.witness_bytes, honest
    )
    with pytest.raises(errors.StepOutOfRange) as info:
        r.prove_fraud(c, 0, past, gas=GAS)
    assert info.value.error_args == {"stepIndex": 5, "stepCount": 5}
    # leaf proofs that do not match the trace root
    with pytest.raises(errors.InvalidStepProof) as info2:
        r.prove_fraud(c, 0, _proof(leaves, 2, leaves[1], honest, ctx, post_leaf=honest), gas=GAS)
    assert info2.value.error_args == {"leafIndex": 2}
    wrong_pre = StepProof(
        2, 5, leaves[0], good.pre_proof, leaves[2], good.post_proof, good.witness, good.witness_bytes, honest
    )
    with pytest.raises(errors.InvalidStepProof) as info3:
        r.prove_fraud(c, 0, wrong_pre, gas=GAS)
    assert info3.value.error_args == {"leafIndex": 1}
    # the witness does not start at the pre leaf
    with pytest.raises(errors.PreStepMismatch) as info4:
        r.prove_fraud(c, 0, _proof(leaves, 2, leaves[0], honest, ctx), gas=GAS)
    assert info4.value.error_args == {"expected": leaves[1], "proven": leaves[0]}
    # the step re-executes to the claimed leaf: no fraud
    with pytest.raises(errors.StepCorrect) as info5:
        r.prove_fraud(c, 0, _proof(leaves, 2, leaves[1], leaves[2], ctx), gas=GAS)
    assert info5.value.error_args == {"stepIndex": 2}
    # a witness the prover rejects proves nothing: its revert comes through
    rejected = StepProof(
        2, 5, leaves[1], good.pre_proof, leaves[2], good.post_proof, good.witness, b"\xde\xad", honest
    )
    with pytest.raises(errors.ContractRevert) as info6:
        r.prove_fraud(c, 0, rejected, gas=GAS)
    assert info6.value.error_name == "TestWitnessRejected"
    assert r.get_challenge(0).phase == ChallengePhase.AWAITING_PROOF
    # anyone may send the proof; the challenger is paid
    receipt = r.prove_fraud(w, 0, good, gas=GAS)
    assert events(r.contract, "ChallengeResolved", receipt) == [
        {"batchIndex": 0, "challenger": c.address, "resolution": Resolution.FRAUD_PROVEN, "stepIndex": 2}
    ]
    assert r.batch_count() == 0 and r.bond_of(game.proposer.address) == 0
    assert (
        r.payout_of(c.address) == CHALLENGER_BOND + BOND * SHARE_BPS // 10_000 and r.payout_of(w.address) == 0
    )


def test_step_zero_starts_from_the_previous_root(game: Game) -> None:
    r, c = game.rollup, game.challenger
    game.post_trace(leaves_for(b"0", 1))
    leaves = leaves_for(b"1", 3)
    game.post_trace(leaves)
    ctx = _ctx_hash(r.step_context(1))
    r.challenge(c, 1)
    game.reveal(1, leaves)
    start = step_hash(r.prev_root_of(1), 0, None)  # H(prevRoot ‖ u32 0 ‖ 0)
    with pytest.raises(errors.PreStepMismatch) as info:
        r.prove_fraud(
            c, 1, _proof(leaves, 0, step_hash(r.genesis_root(), 0, None), keccak(b"x"), ctx), gas=GAS
        )
    assert info.value.error_args["expected"] == start
    r.prove_fraud(c, 1, _proof(leaves, 0, start, keccak(b"x"), ctx), gas=GAS)
    assert r.batch_count() == 1


def test_stand_in_errors_are_decoded() -> None:
    assert "TestWitnessRejected" in default_decoder().names()
