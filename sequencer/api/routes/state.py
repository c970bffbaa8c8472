"""State roots (current, sealed, finalized) and Merkle proofs of any state key."""

from __future__ import annotations

from fastapi import APIRouter

from protocol.state import State
from sequencer.api.common import HashParam, ProofBatch, hx, path_hash
from sequencer.api.deps import SequencerDep
from sequencer.api.responses import route_errors
from sequencer.api.schemas import ProofOut, RootRef, RootsOut
from sequencer.db.models import BatchState

router = APIRouter(prefix="/v1/state", tags=["state"])

SETTLED = (BatchState.SEALED, BatchState.POSTED, BatchState.CHALLENGED, BatchState.FINAL)


@router.get("/root", summary="The current, last sealed and finalized state roots")
def get_roots(node: SequencerDep) -> RootsOut:
    view = node.view
    head, height = view.head, view.height
    sealed = node.store.last_batch_with(*SETTLED)
    final = node.store.last_batch_with(BatchState.FINAL)
    return RootsOut(
        current=RootRef(root=hx(head.root), block=height),
        sealed=None
        if sealed is None or sealed.post_root is None
        else RootRef(root=hx(sealed.post_root), block=sealed.last_block, batch=sealed.id),
        finalized=RootRef(root=hx(State().root), block=0)
        if final is None or final.post_root is None
        else RootRef(root=hx(final.post_root), block=final.last_block, batch=final.id),
    )


def proof_of(state: State, key: bytes) -> tuple[bytes | None, bytes, int, str]:
    """Value, compact proof bytes, depth and terminal kind of `key` in `state`."""
    proof = state.tree.prove(key)
    value = state.get(key)
    terminal = "other" if proof.other_key is not None else ("leaf" if value is not None else "empty")
    return value, proof.encode(), len(proof.siblings), terminal


@router.get(
    "/proof/{key}",
    summary="The sparse Merkle proof of a state key (inclusion or exclusion)",
    description="Against the current state, or with `?batch=` against a sealed batch's post-state root. "
    "Keys are `H(namespace ‖ fields)` (docs/spec.md section 2).",
    responses=route_errors("invalid_hex", "not_found", "not_finalized"),
)
def get_proof(
    key: HashParam,
    node: SequencerDep,
    batch: ProofBatch = None,
) -> ProofOut:
    k = path_hash(key, "key")
    if batch is None:
        view = node.view
        state, height = view.head, view.height
        block: int | None = height
    else:
        state = node.state_at_batch(batch)
        row = node.store.batch(batch)
        block = None if row is None else row.last_block
    value, proof, depth, terminal = proof_of(state, k)
    return ProofOut(
        key=hx(k),
        value=None if value is None else hx(value),
        root=hx(state.root),
        block=block,
        batch=batch,
        proof=hx(proof),
        depth=depth,
        terminal=terminal,  # type: ignore[arg-type]
    )
