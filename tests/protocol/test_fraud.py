"""`protocol.fraud`, the challenger's side of the game (docs/spec.md sections 5 and 9), pure: what a
trace must end with, which step of a claimed trace is wrong, and the arguments of `proveFraud` and
`proveBadLastStep`, each checked the way L1 checks it (list proofs against the claimed trace, the
header against the batch's data hash, the witness re-executed)."""

from __future__ import annotations

import pytest

from protocol.codec import BatchHeader, batch_data_hash, batch_data_hash_from_root, decode_batch, encode_batch
from protocol.deposits import Deposit
from protocol.errors import FraudProofError
from protocol.fraud import (
    LastStepProof,
    StepProof,
    claim_is_correct,
    final_leaf,
    find_fraud,
    first_wrong_step,
    honest_leaves,
    input_count,
    last_step_proof,
    step_proof,
)
from protocol.hashing import ZERO32, keccak, merkle_root, verify_merkle_proof
from protocol.params import PROTOCOL_VERSION
from protocol.transition import BatchResult, StepKind, step_hash
from protocol.txs import Train, Transfer
from protocol.witness import NO_STEP, build_witness, decode_witness, reexecute
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE, FEES
from tests.support.harness import Harness
from tests.support.paper import paper_model

FORGED = keccak(b"forged")


@pytest.fixture(scope="module")
def result() -> BatchResult:
    """A batch of 2 deposits and 3 txs in 8 steps: the deposits, a Train of 3 epochs (the tx and a
    chunk an epoch), a transfer and a tx with a spent nonce (a failed step)."""
    h = Harness()
    model_id = paper_model(h)
    a, b = h.wallets[1], h.wallets[2]
    spent = a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE), nonce=0)
    h.run([spent])
    txs = [
        a.sign(lambda n: Train(n, model_id, 3, max_fee_price=FEE_PRICE)),
        b.sign(lambda n: Transfer(n, a.address, 5, max_fee_price=FEE_PRICE)),
        spent,
    ]
    deposits = [Deposit(0, b"\x07" * 20, 10), Deposit(1, a.address, 20)]
    out = h.run(txs, deposits)
    kinds = [s.kind for s in out.steps]
    assert kinds == [StepKind.DEPOSIT] * 2 + [StepKind.TX] + [StepKind.TRAIN_CHUNK] * 3 + [StepKind.TX] * 2
    assert [r.success for r in out.receipts] == [True, True, False]
    return out


def leaves_with(result: BatchResult, index: int) -> list[bytes]:
    """The honest trace with leaf `index` forged."""
    leaves = honest_leaves(result)
    leaves[index] = keccak(b"wrong" + leaves[index])
    return leaves


def assert_in_trace(leaf: bytes, index: int, proof: tuple[bytes, ...], claimed: list[bytes]) -> None:
    """`leaf` is leaf `index` of `claimed` by `proof`, as the Rollup checks it against the trace root."""
    assert verify_merkle_proof(merkle_root(claimed), leaf, index, len(claimed), proof)


# --- the trace's rules -------------------------------------------------------------------------------


def test_input_count_is_the_deposits_then_the_txs(result: BatchResult) -> None:
    assert input_count(result) == 2 + 3
    assert result.steps[-1].machine.cursor == input_count(result)  # every input consumed at the end


def test_final_leaf_hashes_the_post_root_the_input_count_and_no_job() -> None:
    root = keccak(b"root")
    assert final_leaf(root, 5) == keccak(root + (5).to_bytes(4, "big") + ZERO32)
    assert final_leaf(root, 5) != final_leaf(root, 4)
    assert final_leaf(root, 5) != final_leaf(keccak(b"other"), 5)


def test_honest_leaves_are_the_step_hashes_the_trace_root_commits(result: BatchResult) -> None:
    leaves = honest_leaves(result)
    assert leaves == [step_hash(s.state_root, s.machine.cursor, s.machine.job) for s in result.steps]
    assert merkle_root(leaves) == result.trace_root
    assert leaves[-1] == final_leaf(result.post_root, input_count(result))


def test_claim_is_correct_only_with_both_honest_roots(result: BatchResult) -> None:
    assert claim_is_correct(result, result.post_root, result.trace_root)
    assert not claim_is_correct(result, FORGED, result.trace_root)
    assert not claim_is_correct(result, result.post_root, FORGED)
    assert not claim_is_correct(result, result.trace_root, result.post_root)


def test_first_wrong_step(result: BatchResult) -> None:
    honest = honest_leaves(result)
    assert first_wrong_step(result, honest) is None
    assert first_wrong_step(result, honest[:3]) is None  # a prefix has no wrong leaf
    assert first_wrong_step(result, []) is None
    for index in (0, 4, len(honest) - 1):
        assert first_wrong_step(result, leaves_with(result, index)) == index
    assert first_wrong_step(result, [*honest, honest[-1]]) == len(honest)  # past the honest end
    wrong_twice = leaves_with(result, 5)
    wrong_twice[2] = FORGED
    assert first_wrong_step(result, [*wrong_twice, FORGED]) == 2  # the first one


# --- proveFraud: one step ----------------------------------------------------------------------------


@pytest.mark.parametrize("index", [1, 2, 3, 6, 7])  # a deposit, a tx starting a job, a chunk, txs
def test_step_proof_of_a_wrong_step_convinces_the_one_step_prover(result: BatchResult, index: int) -> None:
    claimed = leaves_with(result, index)
    proof = step_proof(result, claimed, index)
    assert (proof.step_index, proof.step_count) == (index, len(claimed))
    assert proof.pre_leaf == claimed[index - 1] and proof.post_leaf == claimed[index]
    assert_in_trace(proof.pre_leaf, index - 1, proof.pre_proof, claimed)
    assert_in_trace(proof.post_leaf, index, proof.post_proof, claimed)
    assert proof.honest_leaf == honest_leaves(result)[index] != proof.post_leaf
    assert proof.witness == build_witness(result, index)
    assert decode_witness(proof.witness_bytes) == proof.witness
    assert proof.witness.pre_step_hash == proof.pre_leaf  # else the Rollup reverts PreStepMismatch
    assert reexecute(proof.witness, DOMAIN, FEES).step_hash == proof.honest_leaf  # not postLeaf: fraud


def test_step_proof_of_step_zero_leaves_the_pre_leaf_to_the_contract(result: BatchResult) -> None:
    claimed = leaves_with(result, 0)
    proof = step_proof(result, claimed, 0)
    assert (proof.pre_leaf, proof.pre_proof) == (ZERO32, ())
    assert_in_trace(proof.post_leaf, 0, proof.post_proof, claimed)
    assert proof.witness.pre_step_hash == step_hash(result.pre_state.root, 0, None)  # H(prevRoot ‖ 0 ‖ 0)
    assert reexecute(proof.witness, DOMAIN, FEES).step_hash == proof.honest_leaf == result.steps[0].hash


def test_step_proof_past_the_honest_end_is_asked_of_the_finished_machine(result: BatchResult) -> None:
    honest = honest_leaves(result)
    claimed = [*honest, honest[-1]]  # one step too many, ending in the right final leaf
    proof = step_proof(result, claimed, len(honest))
    assert proof.honest_leaf == NO_STEP
    assert_in_trace(proof.pre_leaf, len(honest) - 1, proof.pre_proof, claimed)
    assert_in_trace(proof.post_leaf, len(honest), proof.post_proof, claimed)
    w = proof.witness
    assert (w.pre_root, w.pre_cursor, w.pre_job) == (result.post_root, input_count(result), None)
    assert (w.deposit, w.tx, w.weights, w.accesses) == (None, None, None, ())
    assert w.header == build_witness(result, 0).header  # the batch's header, as every step's
    assert w.deposit_count == len(result.deposits)
    assert w.pre_step_hash == proof.pre_leaf
    assert decode_witness(proof.witness_bytes) == w
    assert reexecute(w, DOMAIN, FEES).step_hash == NO_STEP


def test_step_proof_refuses_a_step_it_cannot_prove(result: BatchResult) -> None:
    honest = honest_leaves(result)
    with pytest.raises(FraudProofError, match="outside the revealed trace"):
        step_proof(result, honest, len(honest))
    with pytest.raises(FraudProofError, match="outside the revealed trace"):
        step_proof(result, honest, -1)
    too_long = [*honest, FORGED, FORGED]
    with pytest.raises(FraudProofError, match="more than one step past the honest end"):
        step_proof(result, too_long, len(honest) + 1)
    with pytest.raises(FraudProofError, match="leaf 3 before step 4 is not honest"):
        step_proof(result, leaves_with(result, 3), 4)


# --- proveBadLastStep ------------------------------------------------------------------------------


def test_last_step_proof_carries_what_the_rollup_checks(result: BatchResult) -> None:
    claimed = honest_leaves(result)[:-2]
    proof = last_step_proof(result, claimed, result.post_root)
    assert (proof.step_count, proof.last_leaf) == (len(claimed), claimed[-1])
    assert_in_trace(proof.last_leaf, len(claimed) - 1, proof.proof, claimed)
    stored = batch_data_hash(*decode_batch(encode_batch(result.context.timestamp, result.txs)))
    header = BatchHeader(PROTOCOL_VERSION, proof.l2_timestamp, proof.tx_count)
    assert batch_data_hash_from_root(header, proof.tx_root) == stored  # else HeaderMismatch
    assert proof.expected_leaf == final_leaf(result.post_root, 5)
    assert last_step_proof(result, claimed, FORGED).expected_leaf == final_leaf(FORGED, 5)
    with pytest.raises(FraudProofError, match="empty trace"):
        last_step_proof(result, [], result.post_root)


# --- find_fraud: the cheapest proof ------------------------------------------------------------------


def test_find_fraud_accepts_the_honest_claim(result: BatchResult) -> None:
    assert find_fraud(result, honest_leaves(result), result.post_root) is None


def test_a_wrong_post_root_is_a_bad_last_step(result: BatchResult) -> None:
    proof = find_fraud(result, honest_leaves(result), FORGED)
    assert isinstance(proof, LastStepProof)
    assert proof.last_leaf == final_leaf(result.post_root, 5) != proof.expected_leaf == final_leaf(FORGED, 5)


def test_a_trace_cut_short_is_a_bad_last_step(result: BatchResult) -> None:
    proof = find_fraud(result, honest_leaves(result)[:-1], result.post_root)
    assert isinstance(proof, LastStepProof) and proof.last_leaf != proof.expected_leaf


def test_a_wrong_last_leaf_is_proven_without_re_execution_before_any_wrong_step(
    result: BatchResult,
) -> None:
    claimed = leaves_with(result, 2)
    claimed[-1] = FORGED
    assert isinstance(find_fraud(result, claimed, result.post_root), LastStepProof)


def test_a_wrong_step_under_the_right_end_is_proven_at_the_first_one(result: BatchResult) -> None:
    claimed = leaves_with(result, 5)
    claimed[3] = FORGED
    proof = find_fraud(result, claimed, result.post_root)
    assert isinstance(proof, StepProof)
    assert proof.step_index == 3 and proof == step_proof(result, claimed, 3)
    # proven against the claimed trace, not the honest one (they differ at leaf 5 too)
    assert_in_trace(proof.pre_leaf, 2, proof.pre_proof, claimed)
    assert_in_trace(proof.post_leaf, 3, proof.post_proof, claimed)


def test_a_trace_too_long_is_proven_at_its_first_extra_step(result: BatchResult) -> None:
    honest = honest_leaves(result)
    proof = find_fraud(result, [*honest, honest[-1]], result.post_root)
    assert isinstance(proof, StepProof)
    assert (proof.step_index, proof.honest_leaf) == (len(honest), NO_STEP)


def test_find_fraud_refuses_an_empty_trace(result: BatchResult) -> None:
    with pytest.raises(FraudProofError, match="empty trace"):
        find_fraud(result, [], result.post_root)
