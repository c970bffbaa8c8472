"""What each transaction does to the state (docs/spec.md section 6).

Every handler reads and writes through a `Ledger` and fails by raising `TxFailure`; the caller then
discards the step's writes, so a failed tx changes nothing. The order of the checks is part of the
protocol: the L1 one-step prover reports the same reason for the same input.

Solidity twins: `l1_contracts/src/prover/TxProver.sol` and `TensorTxProver.sol` (check for check), and
the pure on-chain twins `l1_contracts/src/twins/OnChainCompetition.sol` and `OnChainRegression.sol`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from protocol import keys, params
from protocol.errors import BoundsError, ProofError
from protocol.hashing import keccak, merkle_root_from_range
from protocol.jobs import Job, ScoreJob, TrainJob
from protocol.models import Arch, ModelSpec, validate_spec
from protocol.receipts import Reason, TxFailure
from protocol.records import (
    Account,
    Commitment,
    CommitStatus,
    SharedModel,
    Task,
    TaskFlag,
    Withdrawal,
    decode_rows,
    encode_rows,
)
from protocol.state import Ledger
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import chunks_of_test_set, commitment_to_test_set
from protocol.txs import (
    AddData,
    CommitModel,
    CreateModel,
    CreateTask,
    FinalizeTask,
    RevealModel,
    RevealTestSet,
    Train,
    Transfer,
    Withdraw,
)


@dataclass(frozen=True, slots=True)
class TxEffect:
    """What a successful tx leaves behind besides its writes."""

    created_id: int | None = None
    job: Job | None = None
    job_weights: IntTensor | None = None  # the revealed weights a SCORE job scores


def task_spec(task: Task) -> ModelSpec:
    """The model spec a stored task was created with (validated at creation)."""
    return ModelSpec(Arch(task.arch), task.inputs, task.hidden, task.outputs)


def model_commitment(task_id: int, miner: bytes, weights_digest: bytes, salt: bytes) -> bytes:
    """What a miner commits to: `H(u64 taskId ‖ miner ‖ weightsHash ‖ salt)`; binds the miner."""
    return keccak(task_id.to_bytes(8, "big") + miner + weights_digest + salt)


def _debit(ledger: Ledger, who: bytes, amount: int) -> None:
    account = ledger.account(who)
    if amount > account.balance:
        raise TxFailure(
            Reason.INSUFFICIENT_BALANCE, f"balance {account.balance} is below the {amount} needed"
        )
    ledger.put_account(who, replace(account, balance=account.balance - amount))


def credit(ledger: Ledger, who: bytes, amount: int) -> None:
    """Add `amount` to `who`, saturating at uint128 (total ETH is far below it)."""
    account = ledger.account(who)
    ledger.put_account(who, replace(account, balance=min(account.balance + amount, params.MAX_AMOUNT)))


def _task(ledger: Ledger, task_id: int) -> Task:
    task = ledger.task(task_id)
    if task is None:
        raise TxFailure(Reason.UNKNOWN_TASK, f"task {task_id} does not exist")
    return task


def _model(ledger: Ledger, model_id: int) -> SharedModel:
    model = ledger.model(model_id)
    if model is None:
        raise TxFailure(Reason.UNKNOWN_MODEL, f"model {model_id} does not exist")
    return model


def _transfer(ledger: Ledger, sender: bytes, tx: Transfer, now: int) -> TxEffect:
    _debit(ledger, sender, tx.amount)
    credit(ledger, tx.to, tx.amount)
    return TxEffect()


def _withdraw(ledger: Ledger, sender: bytes, tx: Withdraw, now: int) -> TxEffect:
    _debit(ledger, sender, tx.amount)
    meta = ledger.meta()
    ledger.put_withdrawal(meta.next_withdrawal_id, Withdrawal(tx.recipient, tx.amount))
    ledger.put_meta(replace(meta, next_withdrawal_id=meta.next_withdrawal_id + 1))
    return TxEffect(created_id=meta.next_withdrawal_id)


def _create_task(ledger: Ledger, sender: bytes, tx: CreateTask, now: int) -> TxEffect:
    try:
        validate_spec(tx.arch, tx.inputs, tx.hidden, tx.outputs)
    except BoundsError as exc:
        raise TxFailure(Reason.INVALID_PARAMS, str(exc)) from exc
    if not now < tx.commit_deadline < tx.reveal_deadline:
        raise TxFailure(
            Reason.INVALID_PARAMS,
            f"deadlines must satisfy now ({now}) < commit ({tx.commit_deadline}) < reveal "
            f"({tx.reveal_deadline})",
        )
    if tx.reward == 0:
        raise TxFailure(Reason.INVALID_PARAMS, "a task must escrow a non-zero reward")
    _debit(ledger, sender, tx.reward)
    meta = ledger.meta()
    task = Task(
        submitter=sender,
        arch=tx.arch,
        inputs=tx.inputs,
        hidden=tx.hidden,
        outputs=tx.outputs,
        reward=tx.reward,
        commit_deadline=tx.commit_deadline,
        reveal_deadline=tx.reveal_deadline,
        test_commitment=tx.test_commitment,
        train_data_ref=tx.train_data_ref,
    )
    ledger.put_task(meta.next_task_id, task)
    ledger.put_meta(replace(meta, next_task_id=meta.next_task_id + 1))
    return TxEffect(created_id=meta.next_task_id)


def _commit_model(ledger: Ledger, sender: bytes, tx: CommitModel, now: int) -> TxEffect:
    task = _task(ledger, tx.task_id)
    if now >= task.commit_deadline:
        raise TxFailure(Reason.WRONG_PHASE, f"the commit deadline {task.commit_deadline} has passed")
    if ledger.commitment(tx.task_id, sender) is not None:
        raise TxFailure(Reason.ALREADY_COMMITTED, "this miner already committed on this task")
    ledger.put_commitment(tx.task_id, sender, Commitment(tx.commitment, task.commit_count))
    ledger.put_task(tx.task_id, replace(task, commit_count=task.commit_count + 1))
    return TxEffect()


def _reveal_test_set(ledger: Ledger, sender: bytes, tx: RevealTestSet, now: int) -> TxEffect:
    task = _task(ledger, tx.task_id)
    if sender != task.submitter:
        raise TxFailure(Reason.NOT_SUBMITTER, "only the task's submitter reveals its test set")
    if not task.commit_deadline <= now < task.reveal_deadline or task.has(TaskFlag.TEST_REVEALED):
        raise TxFailure(
            Reason.WRONG_PHASE,
            f"the test set is revealed once, between {task.commit_deadline} and {task.reveal_deadline}",
        )
    spec = task_spec(task)
    k, n, m = spec.chunk_size, tx.n_test, tx.labels.shape[0]
    n_chunks = -(-n // k)
    start = tx.first_chunk * k  # the first sample this tx carries
    if (
        not 1 <= n <= params.MAX_TEST_SAMPLES
        or n_chunks > params.MAX_TEST_CHUNKS
        or tx.first_chunk != task.revealed_chunks
        or tx.features.shape != (m, spec.inputs)
        or not 1 <= m <= n - start
        or (m % k != 0 and start + m != n)
        or -(-m // k) > params.MAX_REVEAL_CHUNKS
        or m * (spec.inputs + 1) > params.MAX_REVEAL_VALUES
    ):
        raise TxFailure(
            Reason.INVALID_PARAMS,
            f"a test set of n <= {params.MAX_TEST_SAMPLES} samples in at most {params.MAX_TEST_CHUNKS} "
            f"chunks of {k} is revealed in order, chunk {task.revealed_chunks} next: features "
            f"(m, {spec.inputs}) and "
            f"labels (m,) of whole chunks (the last may be short), at most {params.MAX_REVEAL_CHUNKS} chunks "
            f"and m * {spec.inputs + 1} <= {params.MAX_REVEAL_VALUES} values a tx",
        )
    if not all(spec.label_ok(label) for label in tx.labels.values):
        raise TxFailure(Reason.INVALID_PARAMS, f"a label is not valid for architecture {spec.arch.name}")
    if commitment_to_test_set(tx.test_root, n, tx.salt) != task.test_commitment:
        raise TxFailure(Reason.HASH_MISMATCH, "testRoot, nTest and salt do not match the task's commitment")
    chunks = chunks_of_test_set(spec, tx.features, tx.labels)
    try:
        root = merkle_root_from_range([keccak(c) for c in chunks], tx.first_chunk, n_chunks, tx.proof)
    except ProofError:
        root = None
    if root != tx.test_root:
        raise TxFailure(Reason.HASH_MISMATCH, "these chunks and their proof do not match testRoot")
    for offset, chunk in enumerate(chunks):
        ledger.put_raw(keys.test_chunk_key(tx.task_id, tx.first_chunk + offset), chunk)
    revealed = tx.first_chunk + len(chunks)
    task = replace(task, test_root=tx.test_root, n_test=n, revealed_chunks=revealed)
    ledger.put_task(tx.task_id, task.with_flag(TaskFlag.TEST_REVEALED) if revealed == n_chunks else task)
    return TxEffect()


def _reveal_model(ledger: Ledger, sender: bytes, tx: RevealModel, now: int) -> TxEffect:
    task = _task(ledger, tx.task_id)
    if not task.has(TaskFlag.TEST_REVEALED) or now >= task.reveal_deadline:
        raise TxFailure(
            Reason.WRONG_PHASE, f"weights are revealed after the test set and before {task.reveal_deadline}"
        )
    commitment = ledger.commitment(tx.task_id, sender)
    if commitment is None:
        raise TxFailure(Reason.NO_COMMITMENT, "this miner has no commitment on this task")
    if commitment.status != CommitStatus.COMMITTED:
        raise TxFailure(Reason.WRONG_PHASE, "these weights were already revealed and scored")
    spec = task_spec(task)
    if tx.weights.shape != (spec.param_count,):
        raise TxFailure(
            Reason.INVALID_PARAMS,
            f"the architecture takes {spec.param_count} weights, got {tx.weights.shape}",
        )
    digest = weights_hash(tx.weights.values)
    if model_commitment(tx.task_id, sender, digest, tx.salt) != commitment.commitment:
        raise TxFailure(Reason.HASH_MISMATCH, "the weights and salt do not match the commitment")
    ledger.put_commitment(tx.task_id, sender, replace(commitment, weights_hash=digest))
    job = ScoreJob(tx.task_id, sender, digest, next_chunk=0, acc=0)
    return TxEffect(job=job, job_weights=tx.weights)


def _finalize_task(ledger: Ledger, sender: bytes, tx: FinalizeTask, now: int) -> TxEffect:
    task = _task(ledger, tx.task_id)
    if task.has(TaskFlag.FINALIZED) or now < task.reveal_deadline:
        raise TxFailure(
            Reason.WRONG_PHASE,
            f"a task is finalized once, at or after its reveal deadline {task.reveal_deadline}",
        )
    winner = task.best_miner if task.has(TaskFlag.HAS_BEST) else task.submitter
    ledger.put_task(tx.task_id, task.with_flag(TaskFlag.FINALIZED))
    credit(ledger, winner, task.reward)
    return TxEffect()


def _create_model(ledger: Ledger, sender: bytes, tx: CreateModel, now: int) -> TxEffect:
    if tx.weights.shape != (tx.n_features + 1,):
        raise TxFailure(
            Reason.INVALID_PARAMS, f"{tx.n_features} features take {tx.n_features + 1} weights (bias first)"
        )
    meta = ledger.meta()
    model = SharedModel(sender, tx.n_features, tx.learning_rate, 0, 0, tx.weights.values)
    ledger.put_model(meta.next_model_id, model)
    ledger.put_meta(replace(meta, next_model_id=meta.next_model_id + 1))
    return TxEffect(created_id=meta.next_model_id)


def _add_data(ledger: Ledger, sender: bytes, tx: AddData, now: int) -> TxEffect:
    model = _model(ledger, tx.model_id)
    n = tx.ys.shape[0]
    if tx.xs.shape != (n, model.n_features) or not 1 <= n <= params.MAX_ADD_POINTS:
        raise TxFailure(
            Reason.INVALID_PARAMS,
            f"xs must be (n, {model.n_features}) with ys (n,), 1 <= n <= {params.MAX_ADD_POINTS}",
        )
    width = model.n_features + 1
    points = [(*x, y) for x, y in zip(tx.xs.rows(), tx.ys.values, strict=True)]
    per_chunk = params.SHARED_CHUNK_POINTS
    position = model.n_points
    while points:
        chunk, offset = divmod(position, per_chunk)
        take = points[: per_chunk - offset]
        points = points[len(take) :]
        key = keys.data_chunk_key(tx.model_id, chunk)
        stored = ledger.get(key)
        rows = [] if stored is None else decode_rows(stored, width)
        ledger.put_raw(key, encode_rows(rows + take))
        position += len(take)
    ledger.put_model(tx.model_id, replace(model, n_points=position))
    return TxEffect()


def _train(ledger: Ledger, sender: bytes, tx: Train, now: int) -> TxEffect:
    model = _model(ledger, tx.model_id)
    n_chunks = -(-model.n_points // params.SHARED_CHUNK_POINTS)
    if n_chunks == 0 or tx.epochs == 0 or tx.epochs * n_chunks > params.MAX_JOB_STEPS:
        raise TxFailure(
            Reason.INVALID_PARAMS,
            f"training needs data and 1 <= epochs * chunks ({tx.epochs} * {n_chunks}) "
            f"<= {params.MAX_JOB_STEPS}",
        )
    return TxEffect(job=TrainJob(tx.model_id, tx.epochs * n_chunks, next_chunk=0, n_chunks=n_chunks))


Handler = Callable[[Ledger, bytes, Any, int], TxEffect]

HANDLERS: dict[type, Handler] = {
    Transfer: _transfer,
    Withdraw: _withdraw,
    CreateTask: _create_task,
    CommitModel: _commit_model,
    RevealTestSet: _reveal_test_set,
    RevealModel: _reveal_model,
    FinalizeTask: _finalize_task,
    CreateModel: _create_model,
    AddData: _add_data,
    Train: _train,
}


def bump_nonce(ledger: Ledger, sender: bytes) -> None:
    """Increase the sender's nonce after a successful tx."""
    account: Account = ledger.account(sender)
    ledger.put_account(sender, replace(account, nonce=account.nonce + 1))
