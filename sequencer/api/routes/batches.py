"""Batches (what goes to L1): status, L1 transaction, and the step roots a verifier needs."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from protocol.transition import StepKind
from sequencer.api.common import DB_INT_MAX, BatchId, StepOffset, hx, hx_or_none
from sequencer.api.deps import SequencerDep
from sequencer.api.responses import route_errors
from sequencer.api.schemas import BatchListOut, BatchOut, L1Out, StepOut, StepsOut
from sequencer.core.errors import api_error
from sequencer.db.models import BatchRow

router = APIRouter(prefix="/v1/batches", tags=["batches"])

MAX_STEPS_PAGE = 100_000
MAX_BATCHES_PAGE = 100


def _batch(row: BatchRow | None, batch_id: int) -> BatchRow:
    if row is None:
        raise api_error("not_found", f"no batch {batch_id}")
    return row


BatchStateName = Literal["open", "sealed", "posted", "challenged", "final", "rolled_back"]


def batch_out(b: BatchRow, *, data: bool = False) -> BatchOut:
    """The API view of a stored batch."""
    l1 = None
    if b.l1_tx_hash is not None:
        l1 = L1Out(
            tx_hash=hx(b.l1_tx_hash), block=b.l1_block or 0, gas_used=b.gas_used or 0, posted_at=b.posted_at
        )
    return BatchOut(
        id=b.id,
        status=b.status,  # type: ignore[arg-type]
        origin=b.origin,  # type: ignore[arg-type]
        proposer=b.proposer,
        timestamp=b.timestamp,
        first_block=b.first_block,
        last_block=b.last_block,
        tx_count=b.tx_count,
        data_bytes=b.data_bytes,
        deposit_start=b.deposit_start,
        deposit_count=b.deposit_count,
        step_count=b.step_count,
        prev_root=hx(b.prev_root),
        post_root=hx_or_none(b.post_root),
        trace_root=hx_or_none(b.trace_root),
        data_hash=hx_or_none(b.data_hash),
        data=hx_or_none(b.data) if data else None,
        l1=l1,
    )


@router.get(
    "",
    summary="Batches in id order, with their status and L1 transaction",
    description="Paged: `after` (the last id seen, -1 to start) and `limit`; `status` filters (repeat it "
    "for several). `next_after` is the id to pass as `after` for the next page, null at the end.",
)
def list_batches(
    node: SequencerDep,
    after: Annotated[int, Query(ge=-1, le=DB_INT_MAX)] = -1,
    limit: Annotated[int, Query(ge=1, le=MAX_BATCHES_PAGE)] = 20,
    status: Annotated[
        list[BatchStateName] | None, Query(description="only batches in these statuses")
    ] = None,
) -> BatchListOut:
    rows = node.store.batches(after, limit + 1, status or ())
    more = len(rows) > limit
    rows = rows[:limit]
    return BatchListOut(
        batches=[batch_out(b) for b in rows], next_after=rows[-1].id if more and rows else None
    )


@router.get(
    "/{batch_id}",
    summary="A batch, its roots and its L1 transaction",
    responses=route_errors("not_found"),
)
def get_batch(
    batch_id: BatchId,
    node: SequencerDep,
    data: Annotated[bool, Query(description="include the batch data (hex)")] = False,
) -> BatchOut:
    return batch_out(_batch(node.store.batch(batch_id), batch_id), data=data)


@router.get(
    "/{batch_id}/steps",
    summary="The trace of a batch: every step's state root, cursor, job hash and hash",
    description="What a verifier needs to find the first wrong step; `trace_root` is the Merkle root of "
    "the step hashes (docs/spec.md section 5). Paged with `offset` and `limit`.",
    responses=route_errors("not_found"),
)
def get_steps(
    batch_id: BatchId,
    node: SequencerDep,
    offset: StepOffset = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_STEPS_PAGE)] = 10_000,
) -> StepsOut:
    b = _batch(node.store.batch(batch_id), batch_id)
    rows = node.store.steps(batch_id, offset, limit)
    return StepsOut(
        batch=b.id,
        status=b.status,
        prev_root=hx(b.prev_root),
        trace_root=hx_or_none(b.trace_root),
        total=b.step_count,
        offset=offset,
        steps=[
            StepOut(
                index=s.batch_index,
                kind=StepKind(s.kind).name.lower(),  # type: ignore[arg-type]
                block=s.block_number,
                state_root=hx(s.state_root),
                cursor=s.cursor,
                job_hash=hx(s.job_hash),
                hash=hx(s.hash),
            )
            for s in rows
        ],
    )
