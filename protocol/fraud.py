"""The challenger's side of the fraud-proof game (docs/spec.md section 9), as pure protocol.

Given the honest execution of a batch (`BatchResult`) and what the proposer claimed (the step hashes
it revealed on L1, and the post root it posted), `find_fraud` says whether the claim is correct and,
when it is not, builds everything one L1 transaction needs to prove it:

- `LastStepProof` for `proveBadLastStep`: the trace's last leaf is not `H(postRoot ‖ u32 inputCount ‖
  0)` (a wrong post root with an honest trace, or a trace cut short);
- `StepProof` for `proveFraud`: the first step whose claimed leaf differs from the honest one, with
  the leaves before and after it, their list proofs against the claimed trace, and the step's witness
  (`protocol.witness.build_witness`, encoded by `encode_witness`). A claimed trace longer than the
  honest one is proven at the first step past the end: the machine there is finished, so the prover
  returns `NO_STEP`, which no leaf equals.

`claim_is_correct` answers the question a verifier asks before it challenges, from the roots alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protocol.errors import FraudProofError
from protocol.hashing import ZERO32, merkle_proof
from protocol.transition import BatchResult, step_hash
from protocol.witness import NO_STEP, StepWitness, build_witness, encode_witness, header_commitment


@dataclass(frozen=True, slots=True)
class StepProof:
    """The arguments of `Rollup.proveFraud` for step `step_index` of a revealed trace of `step_count`.

    For step 0 the contract computes the pre leaf itself (`H(prevRoot ‖ 0 ‖ 0)`) and ignores
    `pre_leaf` / `pre_proof` (zero and empty here). `honest_leaf` is what the step really hashes to
    (`NO_STEP` past the end of the honest trace).
    """

    step_index: int
    step_count: int
    pre_leaf: bytes
    pre_proof: tuple[bytes, ...]
    post_leaf: bytes
    post_proof: tuple[bytes, ...]
    witness: StepWitness
    witness_bytes: bytes
    honest_leaf: bytes


@dataclass(frozen=True, slots=True)
class LastStepProof:
    """The arguments of `Rollup.proveBadLastStep`: the revealed trace's last leaf and its proof, and the
    batch header fields (checked on L1 against the stored data hash) that give the input count."""

    step_count: int
    last_leaf: bytes
    proof: tuple[bytes, ...]
    l2_timestamp: int
    tx_count: int
    tx_root: bytes
    expected_leaf: bytes  # H(claimed postRoot ‖ u32 inputCount ‖ 0)


FraudProof = StepProof | LastStepProof


def input_count(result: BatchResult) -> int:
    """The batch's inputs: the deposits it consumed, then its txs."""
    return len(result.deposits) + len(result.txs)


def final_leaf(post_root: bytes, inputs: int) -> bytes:
    """The leaf every trace must end with: `H(postRoot ‖ u32 inputCount ‖ 0)` (no job pending)."""
    return step_hash(post_root, inputs, None)


def honest_leaves(result: BatchResult) -> list[bytes]:
    """The batch's true step hashes, in order: what an honest proposer reveals."""
    return [s.hash for s in result.steps]


def claim_is_correct(result: BatchResult, post_root: bytes, trace_root: bytes) -> bool:
    """True when a posted batch's roots are the honest ones: nothing to challenge."""
    return post_root == result.post_root and trace_root == result.trace_root


def first_wrong_step(result: BatchResult, claimed: Sequence[bytes]) -> int | None:
    """Index of the first claimed leaf that differs from the honest trace, counting a claimed leaf past
    the honest end as wrong; None when `claimed` is the honest trace or a prefix of it."""
    honest = honest_leaves(result)
    for i, leaf in enumerate(claimed):
        if i >= len(honest) or leaf != honest[i]:
            return i
    return None


def _end_witness(result: BatchResult, step_index: int) -> StepWitness:
    """The witness of a step asked of the finished machine after the batch's last step."""
    return StepWitness(
        step_index=step_index,
        header=header_commitment(result),
        deposit_count=len(result.deposits),
        pre_root=result.post_root,
        pre_cursor=input_count(result),
        pre_job=None,
        deposit=None,
        tx=None,
        weights=None,
        accesses=(),
    )


def step_proof(result: BatchResult, claimed: Sequence[bytes], step_index: int) -> StepProof:
    """The `proveFraud` arguments for step `step_index` of the revealed trace `claimed`.

    The leaves before the step must be honest (the prover starts from the honest pre state): pick
    `first_wrong_step`. `FraudProofError` when the step is out of range or its pre leaf is not honest.
    """
    count = len(claimed)
    steps = len(result.steps)
    if not 0 <= step_index < count:
        raise FraudProofError(f"step {step_index} is outside the revealed trace of {count} steps")
    if step_index > steps:
        raise FraudProofError(
            f"step {step_index} is more than one step past the honest end ({steps} steps): prove step {steps}"
        )
    honest = honest_leaves(result)
    if step_index > 0 and claimed[step_index - 1] != honest[step_index - 1]:
        raise FraudProofError(
            f"leaf {step_index - 1} before step {step_index} is not honest: prove an earlier step"
        )
    if step_index < steps:
        witness = build_witness(result, step_index)
        honest_leaf = honest[step_index]
    else:
        witness = _end_witness(result, step_index)
        honest_leaf = NO_STEP
    pre_leaf, pre_proof = ZERO32, tuple[bytes, ...]()
    if step_index > 0:
        pre_leaf, pre_proof = claimed[step_index - 1], tuple(merkle_proof(claimed, step_index - 1))
    return StepProof(
        step_index=step_index,
        step_count=count,
        pre_leaf=pre_leaf,
        pre_proof=pre_proof,
        post_leaf=claimed[step_index],
        post_proof=tuple(merkle_proof(claimed, step_index)),
        witness=witness,
        witness_bytes=encode_witness(witness),
        honest_leaf=honest_leaf,
    )


def last_step_proof(result: BatchResult, claimed: Sequence[bytes], post_root: bytes) -> LastStepProof:
    """The `proveBadLastStep` arguments for the revealed trace `claimed` of a batch posted with
    `post_root` (it proves fraud only when the last leaf is not `final_leaf(post_root, inputs)`)."""
    if not claimed:
        raise FraudProofError("an empty trace cannot be revealed on L1: the challenger wins by timeout")
    header = header_commitment(result)
    return LastStepProof(
        step_count=len(claimed),
        last_leaf=claimed[-1],
        proof=tuple(merkle_proof(claimed, len(claimed) - 1)),
        l2_timestamp=header.timestamp,
        tx_count=header.tx_count,
        tx_root=header.tx_root,
        expected_leaf=final_leaf(post_root, input_count(result)),
    )


def find_fraud(result: BatchResult, claimed: Sequence[bytes], post_root: bytes) -> FraudProof | None:
    """What is wrong with a batch posted with `post_root` whose revealed trace is `claimed`, as the
    cheapest proof L1 accepts; None when the claim is correct.

    A last leaf that is not `H(postRoot ‖ inputCount ‖ 0)` is proven by `LastStepProof` (no
    re-execution on L1). Otherwise the trace ends in the posted root but some step is wrong: the first
    one is proven by `StepProof`. `FraudProofError` for an empty `claimed` (L1 refuses to record it).
    """
    if not claimed:
        raise FraudProofError("an empty trace cannot be revealed on L1: the challenger wins by timeout")
    last = last_step_proof(result, claimed, post_root)
    if last.last_leaf != last.expected_leaf:
        return last
    wrong = first_wrong_step(result, claimed)
    if wrong is None:
        # an honest prefix ending in a finished machine is the whole honest trace
        return None
    return step_proof(result, claimed, wrong)
