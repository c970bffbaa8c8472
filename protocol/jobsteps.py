"""One chunk of multi-step work: scoring a test chunk, or one SGD pass over a data chunk.

Solidity twin: `l1_contracts/src/prover/JobProver.sol`.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from protocol import kernels
from protocol.jobs import Job, ScoreJob, TrainJob
from protocol.receipts import Reason, TxFailure
from protocol.records import CommitStatus, TaskFlag
from protocol.state import Ledger
from protocol.tensors import IntTensor
from protocol.txrules import task_spec


def _rows_to_tensors(rows: list[tuple[int, ...]]) -> tuple[torch.Tensor, torch.Tensor]:
    table = torch.tensor(rows, dtype=torch.int64)
    return table[:, :-1], table[:, -1]


def score_step(ledger: Ledger, job: ScoreJob, weights: IntTensor) -> ScoreJob | None:
    """Score test chunk `job.next_chunk`; on the last chunk, write the score and the task's best."""
    task = ledger.task(job.task_id)
    if task is None:  # cannot happen: the job was started from this task
        raise TxFailure(Reason.UNKNOWN_TASK, f"task {job.task_id} vanished during scoring")
    spec = task_spec(task)
    rows = ledger.test_chunk(job.task_id, job.next_chunk, spec.inputs + 1)
    features, labels = _rows_to_tensors(rows)
    acc = job.acc + kernels.score_chunk(spec, weights.to_torch(), features, labels)
    n_chunks = -(-task.n_test // spec.chunk_size)
    if job.next_chunk + 1 < n_chunks:
        return replace(job, next_chunk=job.next_chunk + 1, acc=acc)
    score = kernels.final_score(spec, acc, task.n_test)
    commitment = ledger.commitment(job.task_id, job.miner)
    assert commitment is not None, "a score job always has its commitment"
    ledger.put_commitment(
        job.task_id, job.miner, replace(commitment, status=CommitStatus.SCORED, score=score)
    )
    better = (
        not task.has(TaskFlag.HAS_BEST)
        or score > task.best_score
        or (score == task.best_score and commitment.seq < task.best_seq)
    )
    if better:
        task = replace(task, best_score=score, best_miner=job.miner, best_seq=commitment.seq)
        ledger.put_task(job.task_id, task.with_flag(TaskFlag.HAS_BEST))
    return None


def train_step(ledger: Ledger, job: TrainJob) -> TrainJob | None:
    """Per-sample SGD over data chunk `job.next_chunk`, writing the model's new weights."""
    model = ledger.model(job.model_id)
    if model is None:  # cannot happen: the job was started from this model
        raise TxFailure(Reason.UNKNOWN_MODEL, f"model {job.model_id} vanished during training")
    rows = ledger.data_chunk(job.model_id, job.next_chunk, model.n_features + 1)
    xs, ys = _rows_to_tensors(rows)
    weights = torch.tensor(model.weights, dtype=torch.int64)
    new_weights = kernels.shared_sgd(weights, model.learning_rate, xs, ys)
    last_chunk = job.next_chunk + 1 == job.n_chunks
    ledger.put_model(
        job.model_id,
        replace(
            model,
            weights=tuple(int(w) for w in new_weights.tolist()),
            epochs_trained=model.epochs_trained + int(last_chunk),
        ),
    )
    if job.steps_left == 1:
        return None
    return replace(job, steps_left=job.steps_left - 1, next_chunk=0 if last_chunk else job.next_chunk + 1)


def job_step(ledger: Ledger, job: Job, weights: IntTensor | None) -> Job | None:
    """Run the next chunk of `job`; returns the job still pending, or None when it is done."""
    if isinstance(job, ScoreJob):
        assert weights is not None, "a score job runs with the revealed weights"
        return score_step(ledger, job, weights)
    return train_step(ledger, job)
