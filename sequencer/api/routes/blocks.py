"""L2 blocks: the units the builder executes and commits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from sequencer.api.common import BlockNumber, hx
from sequencer.api.deps import SequencerDep
from sequencer.api.responses import route_errors
from sequencer.api.schemas import BlockOut, DepositRange
from sequencer.core.errors import api_error
from sequencer.db.models import BlockRow
from sequencer.node import Sequencer

router = APIRouter(prefix="/v1/blocks", tags=["blocks"])


def _block_out(node: Sequencer, block: BlockRow) -> BlockOut:
    return BlockOut(
        number=block.number,
        batch=block.batch_id,
        timestamp=block.timestamp,
        pre_root=hx(block.pre_root),
        post_root=hx(block.post_root),
        trace_root=hx(block.trace_root),
        tx_count=block.tx_count,
        txs=[hx(t.hash) for t in node.store.block_txs(block.number)],
        deposits=DepositRange(start=block.deposit_start, end=block.deposit_end),
        step_offset=block.step_offset,
        step_count=block.step_count,
        created_at=block.created_at,
    )


@router.get("/latest", summary="The last block", responses=route_errors("not_found"))
def latest_block(node: SequencerDep) -> BlockOut:
    block = node.store.last_block()
    if block is None:
        raise api_error("not_found", "no block yet")
    return _block_out(node, block)


@router.get(
    "/{number}",
    summary="A block by number (from 1)",
    description="With `wait`, waits that many seconds for the block to be built: follow the chain by "
    "asking for the block after the last one seen.",
    responses=route_errors("not_found"),
)
async def get_block(
    number: BlockNumber,
    node: SequencerDep,
    wait: Annotated[float, Query(ge=0, le=30, description="seconds to wait for the block")] = 0,
) -> BlockOut:
    block = await run_in_threadpool(node.store.block, number)  # short reads; the wait holds no thread
    if block is None and wait > 0 and await node.wait_block(number - 1, wait):
        block = await run_in_threadpool(node.store.block, number)
    if block is None:
        raise api_error("not_found", f"no block {number}: the last is {node.height}")
    return await run_in_threadpool(_block_out, node, block)
