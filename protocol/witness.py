"""Step witnesses: what an L1 contract needs to re-execute one step (docs/spec.md section 8),
their canonical bytes (`encode_witness`, what the L1 one-step prover's `proveStep` takes), and a
pure-Python re-execution from the witness alone, as the one-step prover does it.

Solidity twins: `l1_contracts/src/prover/WitnessCodec.sol` (the bytes), `StepState.sol` (the access
list and its proofs) and `OneStepProver.sol` (`reexecute`).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.codec import BatchHeader, batch_data_hash_from_root, tx_inclusion_proof, tx_root
from protocol.deposits import Deposit
from protocol.encoding import Reader, Writer
from protocol.errors import CodecError, ProofError, ProtocolError, WitnessError
from protocol.fees import FeeSchedule
from protocol.hashing import ZERO32, keccak, verify_merkle_proof
from protocol.jobs import ScoreJob, decode_job, job_hash
from protocol.params import PROTOCOL_VERSION
from protocol.signing import Domain
from protocol.smt import SmtProof, SparseMerkleTree, root_after_update, verify_proof
from protocol.state import Overlay
from protocol.tensors import IntTensor, weights_hash
from protocol.transition import BatchContext, BatchResult, Machine, execute_step, step_hash, trace_leaf


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
        return batch_data_hash_from_root(
            BatchHeader(self.version, self.timestamp, self.tx_count), self.tx_root
        )


def header_commitment(result: BatchResult) -> BatchHeaderCommitment:
    """The header commitment of an executed batch: its version, timestamp, tx count and tx root."""
    return BatchHeaderCommitment(
        PROTOCOL_VERSION, result.context.timestamp, len(result.txs), tx_root(result.txs)
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


# What a step of a finished machine (no job pending, every input consumed) hashes to. No trace leaf
# can equal it (a leaf is the hash of 68 bytes), so proving a step past the end of a trace shows that
# the trace is too long.
NO_STEP = keccak(b"mlrollup.no-step")


@dataclass(frozen=True, slots=True)
class StepResult:
    """The machine state after a re-executed step: its trace leaf is `step_hash`.

    `finished` marks a step asked of a finished machine: nothing ran and `step_hash` is `NO_STEP`.
    """

    state_root: bytes
    cursor: int
    job_hash: bytes
    finished: bool = False

    @property
    def step_hash(self) -> bytes:
        if self.finished:
            return NO_STEP
        return trace_leaf(self.state_root, self.cursor, self.job_hash)


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
    tx: TxInclusion | None = None
    if isinstance(next_input, bytes):
        index = machine.cursor - len(result.deposits)
        tx = TxInclusion(next_input, index, tuple(tx_inclusion_proof(result.txs, index)))
    return StepWitness(
        step_index=step_index,
        header=header_commitment(result),
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


def reexecute(witness: StepWitness, domain: Domain, fees: FeeSchedule) -> StepResult:
    """Re-execute one step from its witness alone and return the machine state after it.

    Every access is checked against the rolling root before its value is used, and the tx against
    the batch's tx root: the algorithm the L1 one-step prover implements. `domain` is the
    deployment's signing domain and `fees` its fee schedule (the Rollup's, as the L1 prover's
    `StepContext` carries them); the time is the batch header's. A machine with no job and every
    input consumed has no next step: the result is `finished` (its step hash is `NO_STEP`).
    `WitnessError` when the witness is incomplete or inconsistent (the L1 prover reverts on it),
    including a deposit whose index is not the state's `meta.depositCount`.
    """
    if witness.pre_job is None and witness.pre_cursor >= witness.deposit_count + witness.header.tx_count:
        return StepResult(witness.pre_root, witness.pre_cursor, ZERO32, finished=True)
    ctx = BatchContext(domain, fees, witness.header.timestamp)
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


# --- canonical bytes (docs/spec.md section 8, "Witness bytes") --------------------------------------

_JOB_NONE = 0
_SCORE_JOB_BYTES = 81
_TRAIN_JOB_BYTES = 21


def encode_witness(witness: StepWitness) -> bytes:
    """The canonical bytes of a witness: exactly what the L1 one-step prover's `proveStep` takes.

    `u32 stepIndex ‖ u8 version ‖ u64 timestamp ‖ u32 txCount ‖ b32 txRoot ‖ u64 depositCount ‖
    b32 preRoot ‖ u32 preCursor ‖ job ‖ deposit ‖ tx ‖ weights ‖ accesses`, where `job` is `u8 0` or the
    job's bytes (which start with its kind, 1 or 2); `deposit` is `u8 0` or `u8 1 ‖ u64 index ‖ addr ‖
    u128 amount`; `tx` is `u8 0` or `u8 1 ‖ u32 index ‖ u32 length ‖ raw ‖ u8 siblings ‖ b32 × siblings`;
    `weights` is `u8 0` or `u8 1 ‖ u32 n ‖ i32 × n` (so its hash is the job's `weightsHash`); `accesses`
    is `u32 count ‖ (b32 key ‖ u8 present ‖ [u32 length ‖ value] ‖ u32 proofLength ‖ proof) × count`,
    the value only when present and the proof in its compact encoding. `CodecError` when a field does
    not fit its width.
    """
    w = Writer()
    h = witness.header
    w.u32(witness.step_index, "stepIndex").u8(h.version, "version").u64(h.timestamp, "timestamp")
    w.u32(h.tx_count, "txCount").b32(h.tx_root, "txRoot").u64(witness.deposit_count, "depositCount")
    w.b32(witness.pre_root, "preRoot").u32(witness.pre_cursor, "preCursor")
    if witness.pre_job is None:
        w.u8(_JOB_NONE)
    else:
        decode_job(witness.pre_job)  # only a valid job encoding: the decoder knows its length by its kind
        w.raw(witness.pre_job)
    if witness.deposit is None:
        w.u8(0)
    else:
        d = witness.deposit
        w.u8(1).u64(d.index, "deposit.index").addr(d.recipient, "deposit.recipient")
        w.u128(d.amount, "deposit.amount")
    if witness.tx is None:
        w.u8(0)
    else:
        tx = witness.tx
        w.u8(1).u32(tx.index, "tx.index").u32(len(tx.raw), "tx.length").raw(tx.raw)
        w.u8(len(tx.proof), "tx.proof length")
        for sibling in tx.proof:
            w.b32(sibling, "tx.proof sibling")
    if witness.weights is None:
        w.u8(0)
    else:
        w.u8(1).u32(len(witness.weights), "weights length")
        for value in witness.weights:
            w.i32(value, "weight")
    w.u32(len(witness.accesses), "accesses length")
    for access in witness.accesses:
        w.b32(access.key, "access.key")
        if access.value is None:
            w.u8(0)
        else:
            w.u8(1).u32(len(access.value), "access.value length").raw(access.value)
        proof = access.proof.encode()
        w.u32(len(proof), "access.proof length").raw(proof)
    return w.getvalue()


def decode_witness(data: bytes) -> StepWitness:
    """Inverse of `encode_witness`; `CodecError` unless `data` is exactly one canonical encoding."""
    r = Reader(data)
    step_index = r.u32("stepIndex")
    header = BatchHeaderCommitment(r.u8("version"), r.u64("timestamp"), r.u32("txCount"), r.b32("txRoot"))
    deposit_count = r.u64("depositCount")
    pre_root = r.b32("preRoot")
    pre_cursor = r.u32("preCursor")
    kind = r.u8("job kind")
    pre_job: bytes | None = None
    if kind != _JOB_NONE:
        size = {1: _SCORE_JOB_BYTES, 2: _TRAIN_JOB_BYTES}.get(kind)
        if size is None:
            raise CodecError(f"job kind {kind} is not 0 (none), 1 (SCORE) or 2 (TRAIN)")
        pre_job = bytes([kind]) + r.take(size - 1, "job")
    deposit = None
    if _flag(r, "deposit"):
        deposit = Deposit(r.u64("deposit.index"), r.addr("deposit.recipient"), r.u128("deposit.amount"))
    tx = None
    if _flag(r, "tx"):
        index = r.u32("tx.index")
        raw = r.take(r.u32("tx.length"), "tx.raw")
        siblings = tuple(r.b32("tx.proof sibling") for _ in range(r.u8("tx.proof length")))
        tx = TxInclusion(raw, index, siblings)
    weights = None
    if _flag(r, "weights"):
        weights = tuple(r.i32("weight") for _ in range(r.u32("weights length")))
    accesses: list[StateAccess] = []
    for _ in range(r.u32("accesses length")):
        key = r.b32("access.key")
        value = r.take(r.u32("access.value length"), "access.value") if _flag(r, "access.present") else None
        try:
            proof = SmtProof.decode(r.take(r.u32("access.proof length"), "access.proof"))
        except ProofError as exc:
            raise CodecError(f"access proof: {exc}") from exc
        accesses.append(StateAccess(key, value, proof))
    r.finish("witness")
    return StepWitness(
        step_index=step_index,
        header=header,
        deposit_count=deposit_count,
        pre_root=pre_root,
        pre_cursor=pre_cursor,
        pre_job=pre_job,
        deposit=deposit,
        tx=tx,
        weights=weights,
        accesses=tuple(accesses),
    )


def _flag(r: Reader, field: str) -> bool:
    value = r.u8(field)
    if value > 1:
        raise CodecError(f"{field}: presence byte {value}, must be 0 or 1")
    return value == 1
