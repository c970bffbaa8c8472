"""The state transition: a batch's inputs executed as a trace of steps (docs/spec.md section 5).

`execute_step` is the one step function. `apply_batch` drives it over a batch on the full state;
`protocol.witness.reexecute` drives it over a single step's witness. Both see the same code.

Solidity twin: `l1_contracts/src/prover/TxExecutorBase.sol` (`_deposit_step`, `_tx_step`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum

from protocol.codec import decode_tx
from protocol.deposits import Deposit
from protocol.errors import CodecError, ProtocolError, SignatureError
from protocol.fees import FeeSchedule, charge_fee
from protocol.hashing import keccak, merkle_root
from protocol.jobs import Job, ScoreJob, job_hash
from protocol.jobsteps import job_step
from protocol.receipts import Reason, Receipt, TxFailure
from protocol.signing import Domain, recover_sender
from protocol.smt import SparseMerkleTree
from protocol.state import Ledger, Overlay, State
from protocol.tensors import IntTensor
from protocol.txrules import HANDLERS, bump_nonce, credit


@dataclass(frozen=True, slots=True)
class BatchContext:
    """What a batch executes against besides the state: the deployment's signing domain and fee
    schedule (both read from the Rollup on L1), and the batch time."""

    domain: Domain
    fees: FeeSchedule
    timestamp: int


class StepKind(IntEnum):
    DEPOSIT = 1
    TX = 2
    SCORE_CHUNK = 3
    TRAIN_CHUNK = 4


@dataclass(frozen=True, slots=True)
class Machine:
    """The machine state between steps, less the state root: inputs consumed and the pending job.

    `job_weights` is not hashed into the trace: it is the revealed weights a SCORE job scores,
    bound by the job's `weights_hash` (a witness carries them).
    """

    cursor: int = 0
    job: Job | None = None
    job_weights: IntTensor | None = None


def trace_leaf(state_root: bytes, cursor: int, job_digest: bytes) -> bytes:
    """`H(stateRoot ‖ u32 cursor ‖ jobHash)`: one leaf of the trace, from the job's hash."""
    return keccak(state_root + cursor.to_bytes(4, "big") + job_digest)


def step_hash(state_root: bytes, cursor: int, job: Job | None) -> bytes:
    """`trace_leaf` of a machine state with its pending job."""
    return trace_leaf(state_root, cursor, job_hash(job))


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What one step did: its kind, the machine after it, and for a tx its receipt fields."""

    kind: StepKind
    machine: Machine
    tx_hash: bytes | None = None
    sender: bytes | None = None
    reason: Reason = Reason.OK
    detail: str = ""
    created_id: int | None = None
    fee: int = 0


def _deposit_step(overlay: Overlay, machine: Machine, deposit: Deposit) -> StepOutcome:
    ledger = Ledger(overlay)
    meta = ledger.meta()
    if deposit.index != meta.deposit_count:
        raise ProtocolError(f"deposit {deposit.index} is out of order: {meta.deposit_count} is next")
    credit(ledger, deposit.recipient, deposit.amount)
    ledger.put_meta(replace(meta, deposit_count=meta.deposit_count + 1))
    return StepOutcome(StepKind.DEPOSIT, replace(machine, cursor=machine.cursor + 1))


def _tx_step(overlay: Overlay, machine: Machine, raw: bytes, ctx: BatchContext) -> StepOutcome:
    after = replace(machine, cursor=machine.cursor + 1)
    tx_hash = keccak(raw)
    try:
        signed = decode_tx(raw)
    except CodecError as exc:
        return StepOutcome(StepKind.TX, after, tx_hash, None, Reason.DECODE_ERROR, str(exc))
    try:
        sender = recover_sender(ctx.domain, signed)
    except SignatureError as exc:
        return StepOutcome(StepKind.TX, after, tx_hash, None, Reason.BAD_SIGNATURE, str(exc))
    ledger = Ledger(overlay)
    nonce = ledger.account(sender).nonce
    if signed.tx.nonce != nonce:
        detail = f"nonce {signed.tx.nonce} is not the account's next nonce {nonce}"
        return StepOutcome(StepKind.TX, after, tx_hash, sender, Reason.BAD_NONCE, detail)
    try:
        # the fee is paid before the tx's own rules run, so they see the balance after it; a failure
        # below discards the charge with every other write (a failed tx pays nothing)
        fee = charge_fee(ledger, sender, signed.tx, len(raw), ctx.fees)
        effect = HANDLERS[type(signed.tx)](ledger, sender, signed.tx, ctx.timestamp)
    except TxFailure as failure:
        overlay.discard_writes()
        return StepOutcome(StepKind.TX, after, tx_hash, sender, failure.reason, failure.detail)
    bump_nonce(ledger, sender)
    after = replace(after, job=effect.job, job_weights=effect.job_weights)
    return StepOutcome(StepKind.TX, after, tx_hash, sender, created_id=effect.created_id, fee=fee)


def execute_step(
    overlay: Overlay, machine: Machine, next_input: Deposit | bytes | None, ctx: BatchContext
) -> StepOutcome:
    """Run one step on `overlay`: the pending job's next chunk, else `next_input` (the input at
    `machine.cursor`: a deposit or a tx's raw bytes)."""
    if machine.job is not None:
        kind = StepKind.SCORE_CHUNK if isinstance(machine.job, ScoreJob) else StepKind.TRAIN_CHUNK
        job = job_step(Ledger(overlay), machine.job, machine.job_weights)
        weights = machine.job_weights if job is not None else None
        return StepOutcome(kind, replace(machine, job=job, job_weights=weights))
    if isinstance(next_input, Deposit):
        return _deposit_step(overlay, machine, next_input)
    if isinstance(next_input, bytes):
        return _tx_step(overlay, machine, next_input, ctx)
    raise ProtocolError("a step with no pending job needs an input")


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One step of a batch's trace, with the full state after it (a persistent snapshot)."""

    index: int
    kind: StepKind
    input_index: int | None  # the batch input the step consumed, None for a job chunk
    state: State
    machine: Machine
    hash: bytes

    @property
    def state_root(self) -> bytes:
        return self.state.root


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Everything `apply_batch` produces."""

    pre_state: State
    post_state: State
    deposits: tuple[Deposit, ...]
    txs: tuple[bytes, ...]
    context: BatchContext
    receipts: tuple[Receipt, ...]
    steps: tuple[StepRecord, ...]
    trace_root: bytes

    @property
    def post_root(self) -> bytes:
        return self.post_state.root

    @property
    def step_roots(self) -> list[bytes]:
        return [s.state_root for s in self.steps]

    def input_at(self, cursor: int) -> Deposit | bytes | None:
        """The batch input at `cursor`: deposits first, then txs."""
        if cursor < len(self.deposits):
            return self.deposits[cursor]
        index = cursor - len(self.deposits)
        return self.txs[index] if index < len(self.txs) else None


def _check_deposits(state: State, deposits: Sequence[Deposit]) -> None:
    expected = state.meta().deposit_count
    for offset, deposit in enumerate(deposits):
        if deposit.index != expected + offset:
            raise ProtocolError(
                f"deposits must continue the queue at {expected + offset}, got index {deposit.index}"
            )


StepFunction = Callable[[Overlay, Machine, Deposit | bytes | None, BatchContext], StepOutcome]


def apply_batch(
    state: State,
    deposits: Sequence[Deposit],
    txs: Sequence[bytes],
    ctx: BatchContext,
    *,
    step: StepFunction = execute_step,
) -> BatchResult:
    """Execute a batch: its deposits (in queue order) then its txs, each tx as one or more steps.

    Returns the receipts, the post-state, every step's record (root, cursor, job) and the trace
    root. Invalid txs give failed receipts and change nothing; `state` itself is never modified.
    `step` is `execute_step`; only the sequencer's unsafe fault drills pass a dishonest one.
    """
    _check_deposits(state, deposits)
    result_inputs: tuple[Deposit | bytes, ...] = (*deposits, *txs)
    tree: SparseMerkleTree = state.tree
    machine = Machine()
    steps: list[StepRecord] = []
    receipts: list[Receipt] = []
    while machine.job is not None or machine.cursor < len(result_inputs):
        cursor = machine.cursor
        next_input = result_inputs[cursor] if machine.job is None else None
        overlay = Overlay(tree)
        outcome = step(overlay, machine, next_input, ctx)
        changes = overlay.changes()
        if changes:
            tree = tree.set_many(changes)
        machine = outcome.machine
        index = len(steps)
        if outcome.kind is StepKind.TX:
            assert outcome.tx_hash is not None
            receipts.append(
                Receipt(
                    outcome.tx_hash,
                    cursor - len(deposits),
                    outcome.sender,
                    outcome.reason,
                    outcome.detail,
                    index,
                    index,
                    outcome.created_id,
                    outcome.fee,
                )
            )
        elif outcome.kind is not StepKind.DEPOSIT:
            receipts[-1] = replace(receipts[-1], last_step=index)
        steps.append(
            StepRecord(
                index,
                outcome.kind,
                cursor if next_input is not None else None,
                State(tree),
                machine,
                step_hash(tree.root, machine.cursor, machine.job),
            )
        )
    return BatchResult(
        pre_state=state,
        post_state=State(tree),
        deposits=tuple(deposits),
        txs=tuple(txs),
        context=ctx,
        receipts=tuple(receipts),
        steps=tuple(steps),
        trace_root=merkle_root([s.hash for s in steps]),
    )
