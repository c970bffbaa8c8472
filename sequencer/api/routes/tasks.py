"""Training competitions: a task, its phase and its leaderboard."""

from __future__ import annotations

from fastapi import APIRouter

from protocol.models import Arch
from protocol.records import TaskFlag
from sequencer.api.common import StateId, checksum, hx
from sequencer.api.deps import SequencerDep
from sequencer.api.responses import route_errors
from sequencer.api.schemas import BestOut, StandingOut, TaskOut
from sequencer.core.errors import ApiError
from sequencer.views import leaderboard, task_phase

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])


@router.get(
    "/{task_id}",
    summary="A task with its phase and leaderboard",
    responses=route_errors("unknown_task", status={"unknown_task": 404}),
)
def get_task(task_id: StateId, node: SequencerDep) -> TaskOut:
    view = node.view
    head, height, now = view.head, view.height, node.admission_timestamp()
    task = head.task(task_id)
    if task is None:
        raise ApiError(404, "unknown_task", f"there is no task {task_id} (as of block {height})")
    phase = task_phase(task, now)
    standings = leaderboard(head, task_id, node.store.committed_miners(task_id))
    has_best = task.has(TaskFlag.HAS_BEST)
    return TaskOut(
        id=task_id,
        submitter=checksum(task.submitter),
        arch=Arch(task.arch).name,
        inputs=task.inputs,
        hidden=task.hidden,
        outputs=task.outputs,
        reward=str(task.reward),
        commit_deadline=task.commit_deadline,
        reveal_deadline=task.reveal_deadline,
        test_commitment=hx(task.test_commitment),
        train_data_ref=hx(task.train_data_ref),
        test_revealed=task.has(TaskFlag.TEST_REVEALED),
        test_root=hx(task.test_root),
        n_test=task.n_test,
        revealed_chunks=task.revealed_chunks,
        commit_count=task.commit_count,
        finalized=task.has(TaskFlag.FINALIZED),
        best=BestOut(miner=checksum(task.best_miner), score=task.best_score, seq=task.best_seq)
        if has_best
        else None,
        phase=phase,  # type: ignore[arg-type]
        now=now,
        leaderboard=[
            StandingOut(miner=checksum(s.miner), seq=s.seq, status=s.status, score=s.score, rank=s.rank)  # type: ignore[arg-type]
            for s in standings
        ],
        block=height,
    )
