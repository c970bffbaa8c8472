"""The fraud game with the real one-step prover, step kind by step kind.

Batches are executed by `protocol.transition.apply_batch` over a competition and a shared model
(deposits from the L1 Bridge, every tx type, failed txs, scoring chunks, training chunks, finalization)
and posted through `appendBatch`. For each kind of step, a batch whose trace is honest except for a
wrong post-state root at one such step is challenged, revealed, and proven wrong by `proveFraud` (the
proposer slashed, the batch rolled back); then the honest batch is challenged, every one of those
steps fails to prove (`StepCorrect`), and the challenge times out with the bond going to the proposer.
Also: a trace that does not end in the post root, one cut short, one padded past its end, and the
chain and the Bridge after a fraud.

`python -m pytest -s tests/l1/test_fraud_game_steps.py` prints the gas of each proof.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.fraud_scenario import ETH, Competition, representative_steps, tampered
from l1_contracts import errors
from l1_contracts.bindings import BatchStatus, ChallengePhase, Resolution
from l1_contracts.bindings.prover import OneStepProver, StepContext, prove_step_gas
from l1_contracts.bindings.rollup import GAS_PER_DELETED_BATCH, GAS_PROVE_FRAUD_OVERHEAD
from protocol.codec import decode_tx
from protocol.fraud import LastStepProof, StepProof, find_fraud, honest_leaves, last_step_proof, step_proof
from protocol.hashing import ZERO32, keccak, merkle_root
from protocol.keys import withdrawal_key
from protocol.signing import Domain
from protocol.transition import BatchResult, StepKind
from protocol.txs import Withdraw
from protocol.witness import NO_STEP
from tests.l1.game import BOND, CHALLENGER_BOND, PROOF, SHARE_BPS, WINDOW, Game, make_game
from tests.support.l1 import events, gas_cost, reverted

GAS_ROWS: list[tuple[str, int, int, int]] = []  # kind, witness bytes, proveStep gas, proveFraud gas


def prove_gas(proof: StepProof, deleted: int = 1) -> int:
    return prove_step_gas(proof.witness_bytes) + GAS_PROVE_FRAUD_OVERHEAD + GAS_PER_DELETED_BATCH * deleted


def prove_wrong_step(game: Game, result: BatchResult, name: str, index: int) -> None:
    """Post `result` with step `index` wrong; challenge, reveal, prove; check the slash and rollback."""
    r, p, c = game.rollup, game.proposer, game.challenger
    leaves, post = tampered(result, index)
    batch = game.post_result(result, leaves=leaves, post_root=post)
    r.challenge(c, batch)
    game.reveal(batch, leaves)
    revealed = r.revealed_steps(batch)
    assert revealed == leaves
    proof = find_fraud(result, revealed, r.get_batch(batch).post_root)
    assert isinstance(proof, StepProof) and proof.step_index == index, name
    payout, burned = r.payout_of(c.address), r.burned_total()
    receipt = r.prove_fraud(game.watcher, batch, proof, gas=prove_gas(proof))
    assert events(r.contract, "ChallengeResolved", receipt) == [
        {
            "batchIndex": batch,
            "challenger": c.address,
            "resolution": Resolution.FRAUD_PROVEN,
            "stepIndex": index,
        }
    ], name
    reward = BOND * SHARE_BPS // 10_000
    assert r.payout_of(c.address) == payout + CHALLENGER_BOND + reward
    assert r.burned_total() == burned + BOND - reward
    assert r.batch_count() == batch and r.bond_of(p.address) == 0
    # what the step costs the prover alone, for the gas table
    GAS_ROWS.append(
        (name, len(proof.witness_bytes), _prove_step_gas(game, result, batch, proof), int(receipt["gasUsed"]))
    )
    r.bond(p)  # the (now honest) proposer stakes again


def _prove_step_gas(game: Game, result: BatchResult, batch: int, proof: StepProof) -> int:
    """The gas of `proveStep` alone as a mined transaction, with the context the (deleted) batch had."""
    r = game.rollup
    start = r.get_batch(batch - 1).deposit_count if batch else 0
    ctx = StepContext(
        r.domain_separator(),
        proof.witness.header.data_hash,
        start,
        start + len(result.deposits),
        game.deployment.bridge,
        result.context.fees.price,
        result.context.fees.recipient,
    )
    prover = OneStepProver(game.w3, game.deployment.prover)
    receipt = prover.send_prove_step(
        game.owner, ctx, proof.witness_bytes, gas=prove_step_gas(proof.witness_bytes)
    )
    return int(receipt["gasUsed"])


def defend_honest(game: Game, result: BatchResult, steps: list[tuple[str, int]]) -> int:
    """Post `result` honestly; challenge it; every listed step fails to prove; the challenge times out
    and the challenger's bond goes to the proposer. Returns the batch index (Pending again)."""
    r, p, c = game.rollup, game.proposer, game.challenger
    batch = game.post_result(result)
    r.challenge(c, batch)
    game.reveal(batch, honest_leaves(result))
    revealed = r.revealed_steps(batch)
    assert find_fraud(result, revealed, result.post_root) is None
    for name, index in steps:
        proof = step_proof(result, revealed, index)
        assert proof.post_leaf == proof.honest_leaf
        with pytest.raises(errors.StepCorrect) as info:
            r.prove_fraud(game.watcher, batch, proof, gas=prove_gas(proof))
        assert info.value.error_args == {"stepIndex": index}, name
    with pytest.raises(errors.LastStepCorrect):
        r.prove_bad_last_step(game.watcher, batch, last_step_proof(result, revealed, result.post_root))
    before = r.payout_of(p.address)
    game.advance(PROOF)
    receipt = r.settle_timeout(game.watcher, batch)
    assert events(r.contract, "ChallengeResolved", receipt)[0]["resolution"] == Resolution.PROOF_TIMEOUT
    assert r.payout_of(p.address) == before + CHALLENGER_BOND
    assert r.get_batch(batch).status == BatchStatus.PENDING and r.bond_of(p.address) == BOND
    return batch


def start(game: Game) -> tuple[Competition, BatchResult]:
    """Deposits on the L1 Bridge for the scenario's actors, and the first batch executed over them."""
    d = game.deployment
    comp = Competition(Domain(d.chain_id, bytes.fromhex(d.rollup[2:])), game.now())
    for recipient, amount in comp.funding():
        game.bridge.deposit(game.sender(5), recipient, amount)
    deposits = game.bridge.deposits_since(d.block_number)
    return comp, comp.batch1(deposits)


@pytest.fixture(scope="module")
def deployed() -> Game:
    """One deployment for the module; `game` reverts it after each test."""
    return make_game()


@pytest.fixture
def game(deployed: Game) -> Iterator[Game]:
    with reverted(deployed.tester):
        yield deployed


# The step kinds of the first batch (deposits, simple txs, a training job) and of the later ones.
FIRST_BATCH_KINDS = [
    "deposit",
    "Transfer",
    "CreateTask",
    "CommitModel",
    "CreateModel",
    "AddData",
    "Train",
    "Withdraw",
    "undecodable tx (fails: DECODE_ERROR)",
    "Transfer (fails: INSUFFICIENT_BALANCE)",
    "train chunk (first)",
    "train chunk (last)",
]
LATER_KINDS = [
    "RevealTestSet",
    "RevealModel",
    "score chunk (first)",
    "score chunk (middle)",
    "score chunk (last)",
    "FinalizeTask",
]


def _steps_by_kind(result: BatchResult) -> dict[str, int]:
    steps = dict(representative_steps(result))
    chunks = [s.index for s in result.steps if s.kind is StepKind.SCORE_CHUNK]
    if len(chunks) > 2:
        steps["score chunk (middle)"] = chunks[1]
    return steps


def _wrong_then_honest(
    game: Game, result: BatchResult, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    index = _steps_by_kind(result)[kind]
    prove_wrong_step(game, result, kind, index)
    defend_honest(game, result, [(kind, index)])
    _print_rows(capsys)


@pytest.mark.parametrize("kind", FIRST_BATCH_KINDS)
def test_first_batch_step_kinds(game: Game, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, result = start(game)
    _wrong_then_honest(game, result, kind, capsys)


def test_the_scenario_covers_every_kind(game: Game) -> None:
    comp, first = start(game)
    second = comp.batch2(first.post_state, comp.t0 + 20)
    third = comp.batch3(second.post_state, comp.reveal_deadline)
    assert all(rc.success for rc in (*second.receipts, *third.receipts))
    assert sorted(_steps_by_kind(first)) == sorted(FIRST_BATCH_KINDS)
    assert sorted([*_steps_by_kind(second), *_steps_by_kind(third)]) == sorted(LATER_KINDS)


@pytest.mark.parametrize("kind", LATER_KINDS)
def test_later_batch_step_kinds(game: Game, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    comp, first = start(game)
    game.post_result(first)
    game.advance(20)  # past the commit deadline
    second = comp.batch2(first.post_state, game.now())
    if kind in _steps_by_kind(second):
        _wrong_then_honest(game, second, kind, capsys)
        return
    game.post_result(second)
    game.advance(comp.reveal_deadline - game.now())
    third = comp.batch3(second.post_state, game.now())
    _wrong_then_honest(game, third, kind, capsys)


def test_trace_not_ending_in_the_post_root(game: Game) -> None:
    """Three ways a trace can end wrongly, each proven by the one leaf (or the one step) past it."""
    r, c = game.rollup, game.challenger
    _, result = start(game)
    honest = honest_leaves(result)
    n = len(honest)
    # 1. an honest trace with a wrong post root: the last leaf is not H(postRoot ‖ inputCount ‖ 0)
    batch = game.post_result(result, post_root=keccak(b"not the post root"))
    r.challenge(c, batch)
    game.reveal(batch, honest)
    proof = find_fraud(result, r.revealed_steps(batch), r.get_batch(batch).post_root)
    assert isinstance(proof, LastStepProof)
    bad_header = LastStepProof(
        proof.step_count,
        proof.last_leaf,
        proof.proof,
        proof.l2_timestamp + 1,
        proof.tx_count,
        proof.tx_root,
        proof.expected_leaf,
    )
    with pytest.raises(errors.HeaderMismatch):
        r.prove_bad_last_step(game.watcher, batch, bad_header)
    bad_proof = LastStepProof(
        n, honest[-2], proof.proof, proof.l2_timestamp, proof.tx_count, proof.tx_root, ZERO32
    )
    with pytest.raises(errors.InvalidStepProof) as info:
        r.prove_bad_last_step(game.watcher, batch, bad_proof)
    assert info.value.error_args == {"leafIndex": n - 1}
    receipt = r.prove_bad_last_step(game.watcher, batch, proof)
    assert events(r.contract, "ChallengeResolved", receipt)[0]["resolution"] == Resolution.BAD_LAST_STEP
    r.bond(game.proposer)
    # 2. a trace cut short (its trace root is that of the first n-1 leaves)
    batch = game.post_result(result, leaves=honest[:-1])
    r.challenge(c, batch)
    game.reveal(batch, honest[:-1])
    proof = find_fraud(result, honest[:-1], result.post_root)
    assert isinstance(proof, LastStepProof)
    r.prove_bad_last_step(game.watcher, batch, proof)
    r.bond(game.proposer)
    # 3. a step past the end: the final leaf repeated; the finished machine has no next step (NO_STEP)
    padded = [*honest, honest[-1]]
    batch = game.post_result(result, leaves=padded)
    r.challenge(c, batch)
    game.reveal(batch, padded)
    with pytest.raises(errors.LastStepCorrect):
        r.prove_bad_last_step(game.watcher, batch, last_step_proof(result, padded, result.post_root))
    proof = find_fraud(result, padded, result.post_root)
    assert isinstance(proof, StepProof) and proof.step_index == n and proof.honest_leaf == NO_STEP
    receipt = r.prove_fraud(game.watcher, batch, proof, gas=prove_gas(proof))
    assert events(r.contract, "ChallengeResolved", receipt)[0]["stepIndex"] == n
    r.bond(game.proposer)
    # 4. the honest trace with a zero leaf after it has the honest trace root: a proposer that reveals
    #    that list answers for its count, and loses to its last leaf
    assert merkle_root([*honest, ZERO32]) == result.trace_root
    batch = game.post_result(result)
    r.challenge(c, batch)
    game.reveal(batch, [*honest, ZERO32])
    proof = find_fraud(result, r.revealed_steps(batch), result.post_root)
    assert isinstance(proof, LastStepProof)
    r.prove_bad_last_step(game.watcher, batch, proof)
    assert r.batch_count() == 0


def test_after_fraud_the_chain_continues_and_withdrawals_pay_from_final_roots_only(game: Game) -> None:
    r, bridge, c, other = game.rollup, game.bridge, game.challenger, game.other_proposer
    comp, result = start(game)
    withdraw_step = next(
        rc.first_step
        for rc in result.receipts
        if rc.success and isinstance(decode_tx(result.txs[rc.tx_index]).tx, Withdraw)
    )
    trainer = comp.addr(comp.trainer)
    key = withdrawal_key(0)
    # a batch wrong at the withdrawal step: its (wrong) root is never final, so nothing is claimable
    leaves, post = tampered(result, withdraw_step)
    bad = game.post_result(result, leaves=leaves, post_root=post)
    r.challenge(c, bad)
    game.reveal(bad, leaves)
    proof = find_fraud(result, leaves, post)
    assert isinstance(proof, StepProof)
    r.prove_fraud(c, bad, proof, gas=prove_gas(proof))
    assert r.batch_count() == 0 and r.last_root() == game.deployment.genesis_root
    with pytest.raises(errors.NotFinalized):
        bridge.claim_withdrawal(game.watcher, 0, 0, trainer, ETH // 2, result.post_state.tree.prove(key))
    # the honest proposer posts the same inputs from the last good root (genesis): the deposits again
    index = game.post_result(result, sender=other)
    assert index == 0 and r.get_batch(0).deposit_rolling_hash == bridge.rolling_hash(3)
    with pytest.raises(errors.NotFinalized):  # in its window
        bridge.claim_withdrawal(game.watcher, 0, 0, trainer, ETH // 2, result.post_state.tree.prove(key))
    game.advance(WINDOW)
    r.finalize(game.owner)
    assert r.is_finalized(0)
    before = game.balance(str(_checksum(trainer)))
    bridge.claim_withdrawal(game.watcher, 0, 0, trainer, ETH // 2, result.post_state.tree.prove(key))
    assert game.balance(str(_checksum(trainer))) == before + ETH // 2
    # the challenger takes its bond and reward
    before = game.balance(c.address)
    paid = r.withdraw_payout(c)
    assert game.balance(c.address) == before + CHALLENGER_BOND + BOND * SHARE_BPS // 10_000 - gas_cost(paid)
    assert r.get_challenge(0).phase == ChallengePhase.NONE


def _checksum(address: bytes) -> str:
    from protocol.signing import to_checksum_address

    return to_checksum_address(address)


def _print_rows(capsys: pytest.CaptureFixture[str]) -> None:
    """One line a proof: witness bytes, proveStep alone (a mined tx), proveFraud, their difference."""
    with capsys.disabled():
        for name, size, step_gas, fraud_gas in GAS_ROWS:
            print(
                f"\nGAS {name:<40} witness {size:>6} B  proveStep {step_gas:>9}  proveFraud {fraud_gas:>9}"
                f"  overhead {fraud_gas - step_gas:>7}"
            )
    GAS_ROWS.clear()
