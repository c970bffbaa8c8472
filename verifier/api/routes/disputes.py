"""The disputes: each challenge with its L1 transactions, their gas, and the outcome."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from verifier.api.deps import NodeDep
from verifier.api.schemas import DisputeListOut
from verifier.api.views import dispute_out

router = APIRouter(prefix="/v1/disputes", tags=["disputes"])

MAX_PAGE = 100
OutcomeName = Literal["won", "lost", "rolled_back", "missed", "unprovable"]


@router.get(
    "",
    summary="Disputes in the order they were opened, paged",
    description="`after` (the last `id` seen, -1 to start) and `limit`; `outcome` filters (repeat it for "
    "several). `next_after` is the `id` to pass as `after` for the next page, null at the end.",
)
async def list_disputes(
    node: NodeDep,
    after: Annotated[int, Query(ge=-1, le=2**63 - 1)] = -1,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    outcome: Annotated[list[OutcomeName] | None, Query(description="only these outcomes")] = None,
) -> DisputeListOut:
    rows = await run_in_threadpool(node.store.disputes, after, limit + 1, outcome or ())
    more = len(rows) > limit
    rows = rows[:limit]
    return DisputeListOut(
        disputes=[dispute_out(r) for r in rows], next_after=rows[-1].id if more and rows else None
    )
