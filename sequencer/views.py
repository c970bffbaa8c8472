"""Read-side views computed from the state: a task's phase and leaderboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protocol.records import CommitStatus, Task, TaskFlag
from protocol.state import State


def task_phase(task: Task, now: int) -> str:
    """`commit` (before the commit deadline), `reveal` (test set, then models, before the reveal
    deadline), `finalize` (waiting for a FinalizeTask) or `finalized`, at timestamp `now`."""
    if task.has(TaskFlag.FINALIZED):
        return "finalized"
    if now < task.commit_deadline:
        return "commit"
    if now < task.reveal_deadline:
        return "reveal"
    return "finalize"


@dataclass(frozen=True, slots=True)
class Standing:
    miner: bytes
    seq: int  # commit order: a tie goes to the lower
    status: str  # committed | scored
    score: int | None
    rank: int | None  # 1 = best; None until scored


def leaderboard(state: State, task_id: int, miners: Sequence[bytes]) -> list[Standing]:
    """Every miner who committed on the task: scored ones by score (higher first, ties to the earlier
    commitment, as the protocol breaks them), then the unscored by commit order."""
    entries = []
    for miner in miners:
        c = state.commitment(task_id, miner)
        if c is not None:
            entries.append((miner, c))
    scored = sorted(
        (e for e in entries if e[1].status == CommitStatus.SCORED), key=lambda e: (-e[1].score, e[1].seq)
    )
    waiting = sorted((e for e in entries if e[1].status != CommitStatus.SCORED), key=lambda e: e[1].seq)
    out = [Standing(m, c.seq, "scored", c.score, i + 1) for i, (m, c) in enumerate(scored)]
    out.extend(Standing(m, c.seq, "committed", None, None) for m, c in waiting)
    return out
