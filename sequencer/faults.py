"""Fault drills, UNSAFE and for tests only: the sequencer commits a chosen wrong result, once.

`MLROLLUP_UNSAFE_FAULT=<kind>` (and `MLROLLUP_UNSAFE_FAULT_AT=<batch id>`, 0 by default) arms one
drill. In the first block of a batch with that id or a later one that holds a step the kind applies
to, the block builder commits the wrong result instead of the honest one and seals the batch right
after it; the batcher posts it and, when it is challenged, reveals its wrong step hashes, as a
dishonest proposer would. Nothing else changes: the txs are acknowledged, stored and given receipts
as usual, so once a fraud proof deletes the batch the sequencer rolls back (`sequencer.follower`),
re-executes the same txs honestly and posts again. The drill is then spent, and the database says so
(`sequencer_meta`, written with the faulted block): it never fires twice, not even after a restart.

The settings refuse a drill unless the chain id is a devnet's (`DEVNET_CHAIN_IDS`); the builder logs
a WARNING when one is armed and when it fires. Kinds, and the step a challenger proves wrong:

- `transfer_balance`: after a successful Transfer, the recipient is credited the amount a second time
  (a TX step).
- `score`: when a scoring job ends, the miner's score is one more than it scored (the last
  SCORE_CHUNK step).
- `winner`: a successful FinalizeTask pays the reward to the wrong account: the submitter when a miner
  won, else a fixed stranger (a TX step).
- `train_weights`: a Train chunk leaves the model's bias one unit off (a TRAIN_CHUNK step).
- `withdrawal`: a successful Withdraw writes a forged withdrawal leaf, twice the amount plus one wei
  (a TX step).
- `score_mid_job`: a scoring job of three chunks or more goes wrong in the middle: a chunk neither
  first nor last adds `n_test · FIXED_SCALE` too much to the accumulator (a SCORE_CHUNK step).
- `trace_last_leaf`: the state is honest but the trace's last leaf is not `H(postRoot ‖ inputs ‖ 0)`
  (its state root is replaced): a bad last step.
- `trace_short`: the state is honest but the trace misses the batch's last step (a block of two steps
  or more): a bad last step.

The state kinds change the faulted step itself (an extra write among the step's writes, or the job
it leaves pending), then execute every later step of the block on the wrong state, so that step's
leaf and every later one are wrong and the post root and the trace are computed from them: `_run`
below, the dishonest proposer's executor, runs `apply_batch` with a step function that wraps
`execute_step` and changes the first step the kind applies to.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from protocol.codec import decode_tx
from protocol.deposits import Deposit
from protocol.hashing import keccak, merkle_root
from protocol.jobs import ScoreJob, TrainJob
from protocol.params import FIXED_SCALE
from protocol.receipts import Reason
from protocol.records import TaskFlag
from protocol.state import Ledger, Overlay, State
from protocol.transition import (
    BatchContext,
    Machine,
    StepKind,
    StepOutcome,
    apply_batch,
    execute_step,
    trace_leaf,
)
from protocol.txs import FinalizeTask, Transfer, TxType
from sequencer.executor import ExecutedBlock, StepInfo, executed_block

log = logging.getLogger("sequencer.faults")

DEVNET_CHAIN_IDS = frozenset({31337, 1337})  # `mlrollup devnet` (31337), Ganache and Geth --dev (1337)
FAULT_STRANGER = keccak(b"mlrollup fault drill: the wrong winner")[:20]
SPENT_PREFIX = "unsafe_fault_spent:"


class FaultKind(StrEnum):
    TRANSFER_BALANCE = "transfer_balance"
    SCORE = "score"
    WINNER = "winner"
    TRAIN_WEIGHTS = "train_weights"
    WITHDRAWAL = "withdrawal"
    SCORE_MID_JOB = "score_mid_job"
    TRACE_LAST_LEAF = "trace_last_leaf"
    TRACE_SHORT = "trace_short"

    @property
    def proven_at(self) -> StepKind | None:
        """The kind of step a challenger proves wrong; None for the trace kinds (a bad last step)."""
        return _PROVEN_AT.get(self)


_PROVEN_AT = {
    FaultKind.TRANSFER_BALANCE: StepKind.TX,
    FaultKind.SCORE: StepKind.SCORE_CHUNK,
    FaultKind.WINNER: StepKind.TX,
    FaultKind.TRAIN_WEIGHTS: StepKind.TRAIN_CHUNK,
    FaultKind.WITHDRAWAL: StepKind.TX,
    FaultKind.SCORE_MID_JOB: StepKind.SCORE_CHUNK,
}

# A state fault: given the step's ledger (its writes so far), the machine before it, its outcome and
# its input, change the step and return its new outcome, or None when the step is not one it targets.
Tamper = Callable[[Ledger, Machine, StepOutcome, Deposit | bytes | None], StepOutcome | None]


@dataclass(frozen=True, slots=True)
class Faulted:
    """A block executed with the fault: what the builder commits instead of the honest block."""

    block: ExecutedBlock
    step: int  # the faulted step, within the block
    what: str


@dataclass
class FaultDrill:
    """One armed drill (see the module docstring). `apply` is the builder's one hook."""

    kind: FaultKind
    at_batch: int = 0
    spent: bool = False

    @property
    def spent_key(self) -> str:
        """The `sequencer_meta` name that records the drill as spent."""
        return SPENT_PREFIX + self.kind.value

    def describe(self) -> str:
        return f"{self.kind.value} in the first batch from {self.at_batch} on where it applies"

    def apply(
        self,
        batch_id: int,
        head: State,
        deposits: Sequence[Deposit],
        txs: Sequence[bytes],
        ctx: BatchContext,
        honest: ExecutedBlock,
    ) -> Faulted | None:
        """The block faulted, when the drill is armed for `batch_id` and the block holds a step the
        kind applies to; else None (commit `honest`)."""
        if self.spent or batch_id < self.at_batch:
            return None
        if self.kind is FaultKind.TRACE_LAST_LEAF:
            return _last_leaf(honest)
        if self.kind is FaultKind.TRACE_SHORT:
            return _cut_short(honest)
        if not _may_apply(self.kind, honest, txs):
            return None  # skip the second execution of blocks the fault cannot touch
        return _run(head, deposits, txs, ctx, _TAMPERS[self.kind], self.kind)


# --- the trace kinds ---------------------------------------------------------------------------------


def _trace_root(steps: Sequence[StepInfo]) -> bytes:
    return merkle_root([trace_leaf(s.state_root, s.cursor, s.job_hash) for s in steps])


def _last_leaf(honest: ExecutedBlock) -> Faulted | None:
    if not honest.steps:
        return None
    steps = list(honest.steps)
    last = steps[-1]
    steps[-1] = replace(last, state_root=keccak(b"mlrollup fault drill: not the post root" + last.state_root))
    block = replace(honest, steps=tuple(steps), trace_root=_trace_root(steps))
    return Faulted(block, len(steps) - 1, "the trace's last leaf names another state root than the post root")


def _cut_short(honest: ExecutedBlock) -> Faulted | None:
    if len(honest.steps) < 2:
        return None  # an empty trace cannot be revealed: the drill waits for a longer block
    steps = honest.steps[:-1]
    block = replace(honest, steps=steps, trace_root=_trace_root(steps))
    return Faulted(block, len(steps), f"the trace stops at {len(steps)} of {len(honest.steps)} steps")


# --- the state kinds ---------------------------------------------------------------------------------


def _may_apply(kind: FaultKind, honest: ExecutedBlock, txs: Sequence[bytes]) -> bool:
    """Whether the honest block holds a step `kind` targets (the faulted run then finds it)."""
    kinds = [s.kind for s in honest.steps]
    if kind is FaultKind.TRAIN_WEIGHTS:
        return StepKind.TRAIN_CHUNK in kinds
    if kind in (FaultKind.SCORE, FaultKind.SCORE_MID_JOB):
        return kinds.count(StepKind.SCORE_CHUNK) >= (1 if kind is FaultKind.SCORE else 3)
    tx_type = {
        FaultKind.TRANSFER_BALANCE: TxType.TRANSFER,
        FaultKind.WINNER: TxType.FINALIZE_TASK,
        FaultKind.WITHDRAWAL: TxType.WITHDRAW,
    }[kind]
    return any(r.success and txs[r.tx_index][:1] == bytes([tx_type]) for r in honest.receipts)


def _tx_of(outcome: StepOutcome, raw: Deposit | bytes | None, tx_type: TxType) -> bytes | None:
    """The raw tx of a successful TX step of `tx_type`, else None."""
    if outcome.kind is not StepKind.TX or outcome.reason is not Reason.OK or not isinstance(raw, bytes):
        return None
    return raw if raw[:1] == bytes([tx_type]) else None


def _transfer_balance(
    ledger: Ledger, machine: Machine, outcome: StepOutcome, raw: Deposit | bytes | None
) -> StepOutcome | None:
    tx_raw = _tx_of(outcome, raw, TxType.TRANSFER)
    if tx_raw is None:
        return None
    tx = decode_tx(tx_raw).tx
    assert isinstance(tx, Transfer)
    account = ledger.account(tx.to)
    ledger.put_account(tx.to, replace(account, balance=account.balance + max(tx.amount, 1)))
    return outcome


def _withdrawal(
    ledger: Ledger, machine: Machine, outcome: StepOutcome, raw: Deposit | bytes | None
) -> StepOutcome | None:
    if _tx_of(outcome, raw, TxType.WITHDRAW) is None or outcome.created_id is None:
        return None
    withdrawal = ledger.withdrawal(outcome.created_id)
    assert withdrawal is not None, "a successful Withdraw wrote its withdrawal"
    ledger.put_withdrawal(outcome.created_id, replace(withdrawal, amount=withdrawal.amount * 2 + 1))
    return outcome


def _winner(
    ledger: Ledger, machine: Machine, outcome: StepOutcome, raw: Deposit | bytes | None
) -> StepOutcome | None:
    tx_raw = _tx_of(outcome, raw, TxType.FINALIZE_TASK)
    if tx_raw is None:
        return None
    tx = decode_tx(tx_raw).tx
    assert isinstance(tx, FinalizeTask)
    task = ledger.task(tx.task_id)
    assert task is not None
    winner = task.best_miner if task.has(TaskFlag.HAS_BEST) else task.submitter
    wrong = task.submitter if winner != task.submitter else FAULT_STRANGER
    paid = ledger.account(winner)  # the honest step credited the reward here: move it
    ledger.put_account(winner, replace(paid, balance=paid.balance - task.reward))
    other = ledger.account(wrong)
    ledger.put_account(wrong, replace(other, balance=other.balance + task.reward))
    return outcome


def _train_weights(
    ledger: Ledger, machine: Machine, outcome: StepOutcome, raw: Deposit | bytes | None
) -> StepOutcome | None:
    job = machine.job
    if outcome.kind is not StepKind.TRAIN_CHUNK or not isinstance(job, TrainJob):
        return None
    model = ledger.model(job.model_id)
    assert model is not None
    ledger.put_model(job.model_id, replace(model, weights=(model.weights[0] + 1, *model.weights[1:])))
    return outcome


def _score(
    ledger: Ledger, machine: Machine, outcome: StepOutcome, raw: Deposit | bytes | None
) -> StepOutcome | None:
    job = machine.job
    if outcome.kind is not StepKind.SCORE_CHUNK or outcome.machine.job is not None:
        return None
    assert isinstance(job, ScoreJob)
    commitment = ledger.commitment(job.task_id, job.miner)
    assert commitment is not None
    ledger.put_commitment(job.task_id, job.miner, replace(commitment, score=commitment.score + 1))
    return outcome


def _score_mid_job(
    ledger: Ledger, machine: Machine, outcome: StepOutcome, raw: Deposit | bytes | None
) -> StepOutcome | None:
    before, after = machine.job, outcome.machine.job
    if outcome.kind is not StepKind.SCORE_CHUNK or not isinstance(before, ScoreJob):
        return None
    if before.next_chunk == 0 or not isinstance(after, ScoreJob):
        return None  # the first chunk, or the last: not the middle
    task = ledger.task(after.task_id)
    assert task is not None
    wrong = replace(after, acc=after.acc + task.n_test * FIXED_SCALE)
    return replace(outcome, machine=replace(outcome.machine, job=wrong))


_TAMPERS: dict[FaultKind, Tamper] = {
    FaultKind.TRANSFER_BALANCE: _transfer_balance,
    FaultKind.SCORE: _score,
    FaultKind.WINNER: _winner,
    FaultKind.TRAIN_WEIGHTS: _train_weights,
    FaultKind.WITHDRAWAL: _withdrawal,
    FaultKind.SCORE_MID_JOB: _score_mid_job,
}


def _run(
    head: State,
    deposits: Sequence[Deposit],
    txs: Sequence[bytes],
    ctx: BatchContext,
    tamper: Tamper,
    kind: FaultKind,
) -> Faulted | None:
    """The block's steps through `apply_batch` with the first step `tamper` takes changed; None when
    no step was taken."""
    started = time.perf_counter()
    taken: list[int] = []  # the faulted step's index, once there is one
    count = 0

    def dishonest_step(
        overlay: Overlay, machine: Machine, next_input: Deposit | bytes | None, ctx: BatchContext
    ) -> StepOutcome:
        nonlocal count
        outcome = execute_step(overlay, machine, next_input, ctx)
        if not taken:
            tampered = tamper(Ledger(overlay), machine, outcome, next_input)
            if tampered is not None:
                outcome = tampered
                taken.append(count)
        count += 1
        return outcome

    result = apply_batch(head, deposits, txs, ctx, step=dishonest_step)
    if not taken:
        return None
    block = executed_block(head, result, time.perf_counter() - started)
    fired = taken[0]
    return Faulted(
        block, fired, f"{kind.value} at step {fired} of the block ({block.steps[fired].kind.name})"
    )
