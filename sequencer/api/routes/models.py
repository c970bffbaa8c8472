"""Shared models (the paper's linear regression on L2): weights, points, epochs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from protocol.params import SHARED_CHUNK_POINTS, SHARED_SCALE
from sequencer.api.common import StateId, checksum
from sequencer.api.deps import SequencerDep
from sequencer.api.responses import route_errors
from sequencer.api.schemas import ModelOut
from sequencer.core.errors import ApiError

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get(
    "/{model_id}",
    summary="A shared model's weights, data size and epochs",
    responses=route_errors("unknown_model", status={"unknown_model": 404}),
)
async def get_model(
    model_id: StateId,
    node: SequencerDep,
    points: Annotated[bool, Query(description="include the data points")] = False,
) -> ModelOut:
    view = node.view
    head, height = view.head, view.height
    model = head.model(model_id)
    if model is None:
        raise ApiError(404, "unknown_model", f"there is no model {model_id} (as of block {height})")
    rows = None
    if points:
        width = model.n_features + 1
        n_chunks = -(-model.n_points // SHARED_CHUNK_POINTS)
        rows = [list(r) for c in range(n_chunks) for r in head.data_chunk(model_id, c, width)]
    return ModelOut(
        id=model_id,
        owner=checksum(model.owner),
        n_features=model.n_features,
        learning_rate=model.learning_rate,
        n_points=model.n_points,
        epochs_trained=model.epochs_trained,
        weights=list(model.weights),
        scale=SHARED_SCALE,
        points=rows,
        block=height,
    )
