"""Step witnesses: what an L1 contract needs to re-execute one step (docs/spec.md section 8),
and a pure-Python re-execution from the witness alone, as the one-step prover does it."""

from __future__ import annotations

from dataclasses import dataclass

from protocol.deposits import Deposit
from protocol.errors import ProtocolError, WitnessError
from protocol.hashing import keccak, merkle_proof, merkle_root, verify_merkle_proof
from protocol.jobs import ScoreJob, decode_job, job_hash
from protocol.params import PROTOCOL_VERSION
from protocol.signing import Domain
from protocol.smt import SmtProof, SparseMerkleTree, root_after_update, verify_proof
from protocol.state import Overlay
from protocol.tensors import IntTensor, weights_hash
from protocol.transition import BatchContext, BatchResult, Machine, execute_step, step_hash


@dataclass(frozen=True, slots=True)
class StateAccess:
    """One key a step touches, its value before the step, and its proof against the rolling root."""

    key: bytes
    value: bytes | None
    proof: SmtProof


@dataclass(frozen=True, slots=True)
class TxInclusion:
    """A tx's bytes and its list proof against the batch's tx root."""

    raw: bytes
    index: int
    proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class BatchHeaderCommitment:
    """The batch fields the L1 stores a hash of: `H(version ‖ timestamp ‖ txCount ‖ txRoot)`."""

    version: int
    timestamp: int
    tx_count: int
    tx_root: bytes

    @property
    def data_hash(self) -> bytes:
        return keccak(
            self.version.to_bytes(1, "big")
            + self.timestamp.to_bytes(8, "big")
            + self.tx_count.to_bytes(4, "big")
            + self.tx_root
        )


@dataclass(frozen=True, slots=True)
class StepWitness:
    """Everything needed to re-execute step `step_index` of a batch with no other state."""

    step_index: int
    header: BatchHeaderCommitment
    deposit_count: int  # deposits the batch consumes before its txs
    pre_root: bytes
    pre_cursor: int
    pre_job: bytes | None
    deposit: Deposit | None
    tx: TxInclusion | None
    weights: tuple[int, ...] | None  # the revealed weights, for a scoring chunk
    accesses: tuple[StateAccess, ...]

    @property
    def pre_step_hash(self) -> bytes:
        job = None if self.pre_job is None else decode_job(self.pre_job)
        return step_hash(self.pre_root, self.pre_cursor, job)


@dataclass(frozen=True, slots=True)
class StepResult:
    """The machine state after a re-executed step: its trace leaf is `step_hash`."""

    state_root: bytes
    cursor: int
    job_hash: bytes

    @property
    def step_hash(self) -> bytes:
        return keccak(self.state_root + self.cursor.to_bytes(4, "big") + self.job_hash)


def _rolled_accesses(overlay: Overlay, tree: SparseMerkleTree) -> tuple[StateAccess, ...]:
    """Proof `i` is taken after writing the post-values of accesses `0 … i-1`."""
    accesses: list[StateAccess] = []
    for key, pre in overlay.pre.items():
        accesses.append(StateAccess(key, pre, tree.prove(key)))
        post = overlay.writes.get(key, pre)
        if post is not None and post != pre:
            tree = tree.set(key, post)
    return tuple(accesses)


def build_witness(result: BatchResult, step_index: int) -> StepWitness:
    """The witness of one step of an executed batch, replayed from the snapshot before it."""
    if not 0 <= step_index < len(result.steps):
        raise WitnessError(f"step {step_index} is outside a trace of {len(result.steps)} steps")
    if step_index == 0:
        pre_state, machine = result.pre_state, Machine()
    else:
        previous = result.steps[step_index - 1]
        pre_state, machine = previous.state, previous.machine
    next_input = result.input_at(machine.cursor) if machine.job is None else None
    overlay = Overlay(pre_state.tree)
    execute_step(overlay, machine, next_input, result.context)
    tx_hashes = [keccak(t) for t in result.txs]
    tx: TxInclusion | None = None
    if isinstance(next_input, bytes):
        index = machine.cursor - len(result.deposits)
        tx = TxInclusion(next_input, index, tuple(merkle_proof(tx_hashes, index)))
    header = BatchHeaderCommitment(
        PROTOCOL_VERSION, result.context.timestamp, len(result.txs), merkle_root(tx_hashes)
    )
    return StepWitness(
        step_index=step_index,
        header=header,
        deposit_count=len(result.deposits),
        pre_root=pre_state.root,
        pre_cursor=machine.cursor,
        pre_job=None if machine.job is None else machine.job.encode(),
        deposit=next_input if isinstance(next_input, Deposit) else None,
        tx=tx,
        weights=None if machine.job_weights is None else machine.job_weights.values,
        accesses=_rolled_accesses(overlay, pre_state.tree),
    )


class _WitnessReader:
    """Reads only what the witness holds; a key it lacks makes the witness incomplete."""

    def __init__(self, accesses: tuple[StateAccess, ...]) -> None:
        self.values = {a.key: a.value for a in accesses}
        if len(self.values) != len(accesses):
            raise WitnessError("a witness lists the same key twice")

    def get(self, key: bytes) -> bytes | None:
        if key not in self.values:
            raise WitnessError(f"the step reads key {key.hex()}, which the witness does not carry")
        return self.values[key]


def _machine_before(witness: StepWitness) -> Machine:
    if witness.pre_job is None:
        return Machine(witness.pre_cursor)
    job = decode_job(witness.pre_job)
    weights = None
    if isinstance(job, ScoreJob):
        if witness.weights is None or weights_hash(witness.weights) != job.weights_hash:
            raise WitnessError("a scoring step needs the weights whose hash the job holds")
        weights = IntTensor((len(witness.weights),), witness.weights)
    return Machine(witness.pre_cursor, job, weights)


def _input_of(witness: StepWitness, machine: Machine) -> Deposit | bytes | None:
    if machine.job is not None:
        return None
    if machine.cursor < witness.deposit_count:
        if witness.deposit is None:
            raise WitnessError(f"input {machine.cursor} is a deposit, which the witness does not carry")
        return witness.deposit
    tx = witness.tx
    index = machine.cursor - witness.deposit_count
    if tx is None or tx.index != index:
        raise WitnessError(f"input {machine.cursor} is tx {index}, which the witness does not carry")
    header = witness.header
    if not verify_merkle_proof(header.tx_root, keccak(tx.raw), index, header.tx_count, tx.proof):
        raise WitnessError(f"tx {index} is not in the batch's tx root")
    return tx.raw


def reexecute(witness: StepWitness, domain: Domain) -> StepResult:
    """Re-execute one step from its witness alone and return the machine state after it.

    Every access is checked against the rolling root before its value is used, and the tx against
    the batch's tx root: the algorithm the L1 one-step prover implements. `domain` is the
    deployment's signing domain; the time is the batch header's.
    """
    ctx = BatchContext(domain, witness.header.timestamp)
    machine = _machine_before(witness)
    next_input = _input_of(witness, machine)
    overlay = Overlay(_WitnessReader(witness.accesses))
    try:
        outcome = execute_step(overlay, machine, next_input, ctx)
    except WitnessError:
        raise
    except ProtocolError as exc:  # a value the proofs below would reject did not even decode
        raise WitnessError(f"the witness does not re-execute: {exc}") from exc
    root = witness.pre_root
    for access in witness.accesses:
        if not verify_proof(root, access.key, access.value, access.proof):
            raise WitnessError(f"the proof of key {access.key.hex()} does not match the rolling root")
        post = overlay.writes.get(access.key, access.value)
        if post is not None and post != access.value:
            root = root_after_update(access.key, access.value, post, access.proof)
    return StepResult(root, outcome.machine.cursor, job_hash(outcome.machine.job))
