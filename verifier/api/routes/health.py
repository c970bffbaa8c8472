"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from verifier.api.deps import NodeDep
from verifier.api.errors import COMMON_RESPONSES, error_response
from verifier.api.schemas import ErrorBody

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: connected to L1 and caught up with its confirmed head (503 and why otherwise)",
    responses={
        **COMMON_RESPONSES,
        503: {"model": ErrorBody, "description": "`not_ready`, with the reason"},
    },
)
async def readyz(request: Request, node: NodeDep) -> JSONResponse:
    s = node.status
    problem = None
    if s.halted is not None:
        problem = f"the verifier stopped: {s.halted}"
    elif s.failures:
        problem = f"the last {s.failures} rounds failed: {s.last_error}"
    elif not s.connected:
        problem = "not connected to L1 yet"
    elif not s.caught_up:
        problem = f"catching up with L1 (scanned to block {s.l1_block})"
    elif request.app.state.run_loop and not node.alive:
        problem = "the verifier loop is not running"
    if problem is not None:
        return error_response(503, "not_ready", problem)
    return JSONResponse(
        {"status": "ready", "l1_block": s.l1_block, "batches": s.batch_count, "finalized": s.finalized_count}
    )
