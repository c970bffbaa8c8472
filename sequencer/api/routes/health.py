"""Liveness, readiness and the service's public configuration."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from protocol.params import EIP712_NAME, EIP712_VERSION, MAX_TENSOR_ELEMENTS, MAX_TX_BYTES
from sequencer.api.deps import SequencerDep, SettingsDep
from sequencer.api.responses import route_errors
from sequencer.api.schemas import InfoOut
from sequencer.node import Sequencer

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: state loaded, database reachable, block builder running, in line with L1",
    description="503 `not_ready` or `catching_up` (with `Retry-After`) while txs would be refused; "
    "`catching_up` gives the reason (reading L1, a rollback, another proposer's batch, a refused one), "
    "`l1` the follower's view and `batcher` the posting daemon's.",
    responses=route_errors("catching_up"),
)
def readyz(request: Request) -> JSONResponse:
    node: Sequencer | None = getattr(request.app.state, "sequencer", None)
    builder = getattr(request.app.state, "builder", None)
    problems = []
    if node is None or not node.started:
        problems.append("the state is not loaded yet")
    else:
        try:
            with node.db.read() as s:
                s.execute(text("SELECT 1"))
        except Exception as exc:
            problems.append(f"database unreachable: {type(exc).__name__}")
    if builder is not None and getattr(request.app.state, "run_builder", True):
        if not builder.alive:
            problems.append("the block builder is not running")
        elif builder.failures:
            problems.append(
                f"the block builder failed {builder.failures} times in a row: {builder.last_error}"
            )
    batcher = getattr(request.app.state, "batcher", None)
    follower = getattr(request.app.state, "follower", None)
    catching_up = None if node is None else node.catching_up
    details: dict[str, object] = {"catching_up": None if catching_up is None else catching_up.as_dict()}
    if follower is not None:
        details["l1"] = follower.status()
    if batcher is not None:
        details["batcher"] = {
            "running": batcher.alive,
            "failures": batcher.failures,
            "last_error": batcher.last_error,
            "waiting": batcher.waiting,
        }
    if problems:
        error = {"error": {"code": "not_ready", "message": "; ".join(problems), **details}}
        return JSONResponse(error, status_code=503)
    assert node is not None
    if catching_up is not None:
        message = f"catching up with L1, not taking txs: {catching_up.reason}"
        error = {"error": {"code": "catching_up", "message": message, **details}}
        headers = {"Retry-After": str(catching_up.retry_after_s)}
        return JSONResponse(error, status_code=503, headers=headers)
    body: dict[str, object] = {"status": "ready", "block": node.height, "mempool": len(node.mempool)}
    return JSONResponse({**body, **details})


@router.get("/v1/info", summary="The signing domain and the limits", tags=["info"])
async def info(node: SequencerDep, settings: SettingsDep) -> InfoOut:
    return InfoOut(
        name=EIP712_NAME,
        version=EIP712_VERSION,
        domain=node.domain.as_dict(),
        settings=settings.public(),
        limits={
            "max_tx_bytes": MAX_TX_BYTES,
            "max_tensor_elements": MAX_TENSOR_ELEMENTS,
            "max_list_txs": settings.max_list_txs,
            "max_body_bytes": settings.max_body_bytes,
            "max_json_depth": settings.max_json_depth,
            "max_pending_steps_per_sender": settings.max_pending_steps_per_sender,
            "max_pending_steps": settings.max_pending_steps,
            "max_long_polls": settings.max_long_polls,
            "limit_concurrency": settings.limit_concurrency,
        },
    )
