"""The batches judged, with the posted and the honest roots."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from verifier.api.deps import NodeDep
from verifier.api.schemas import JudgedBatchListOut
from verifier.api.views import batch_out

router = APIRouter(prefix="/v1/batches", tags=["batches"])

MAX_PAGE = 100
VerdictName = Literal["valid", "wrong_roots", "undecodable", "off_chain"]


@router.get(
    "",
    summary="Judged batches in the order they were judged, paged",
    description="`after` (the last `id` seen, -1 to start) and `limit`; `verdict` filters (repeat it for "
    "several). `next_after` is the `id` to pass as `after` for the next page, null at the end.",
)
async def list_batches(
    node: NodeDep,
    after: Annotated[int, Query(ge=-1, le=2**63 - 1)] = -1,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    verdict: Annotated[list[VerdictName] | None, Query(description="only these verdicts")] = None,
) -> JudgedBatchListOut:
    rows = await run_in_threadpool(node.store.batches, after, limit + 1, verdict or ())
    more = len(rows) > limit
    rows = rows[:limit]
    return JudgedBatchListOut(
        batches=[batch_out(r) for r in rows], next_after=rows[-1].id if more and rows else None
    )
