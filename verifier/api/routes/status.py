"""The verifier's view: how far it checked, what it disagreed with, its disputes, gas and payouts."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from verifier.api.deps import NodeDep
from verifier.api.schemas import LatestBatchOut, PayoutsOut, StatusOut
from verifier.api.views import hx, hx_or_none, wei_or_none
from verifier.node import VerifierNode

router = APIRouter(prefix="/v1", tags=["status"])


def _status(node: VerifierNode) -> StatusOut:
    store, s = node.store, node.status
    latest = store.latest_batch()
    verdicts = store.verdict_counts()
    game = node.game
    bond = None if game is None or node.sender is None else game.params.challenger_bond
    return StatusOut(
        rollup=node.settings.rollup,
        chain_id=node.chain_id,
        connected=s.connected,
        caught_up=s.caught_up,
        l1_block=s.l1_block,
        confirmations=node.settings.confirmations,
        batch_count=s.batch_count,
        finalized_count=s.finalized_count,
        latest_checked=None
        if latest is None
        else LatestBatchOut(
            index=latest.batch_index,
            verdict=latest.verdict,
            post_root=hx(latest.post_root),
            honest_post_root=hx_or_none(latest.honest_post_root),
            l1_tx_hash=hx(latest.l1_tx_hash),
        ),
        disagreements=verdicts.get("wrong_roots", 0) + verdicts.get("undecodable", 0),
        verdicts=verdicts,
        disputes=store.dispute_counts(),
        challenger=node.address,
        challenger_bond_wei=wei_or_none(bond),
        gas_spent=store.gas_spent(),
        payouts=PayoutsOut(
            withdrawn_wei=str(store.payouts_total()),
            pending_wei=wei_or_none(None if game is None else game.pending_payout),
        ),
        last_error=s.last_error,
        halted=s.halted,
    )


@router.get("/status", summary="Latest checked batch, L1 block, disagreements, disputes, bond and payouts")
async def status(node: NodeDep) -> StatusOut:
    return await run_in_threadpool(_status, node)
