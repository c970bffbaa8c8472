"""What a user needs to claim a withdrawal on L1: the leaf and its proof against a final root."""

from __future__ import annotations

from fastapi import APIRouter

from protocol import keys
from protocol.records import Withdrawal
from sequencer.api.common import ProofBatch, StateId, checksum, hx
from sequencer.api.deps import SequencerDep
from sequencer.api.responses import route_errors
from sequencer.api.routes.state import proof_of
from sequencer.api.schemas import WithdrawalProofOut
from sequencer.core.errors import api_error
from sequencer.db.models import BatchState

router = APIRouter(prefix="/v1/withdrawals", tags=["withdrawals"])


@router.get(
    "/{withdrawal_id}/proof",
    summary="A withdrawal's leaf and its proof against the last final state root",
    description="By default against the last **final** batch (what the Bridge accepts); `?batch=` "
    "proves against any sealed batch from the last final one on (not claimable before it is final). "
    "409 `not_finalized` while no such batch holds the withdrawal yet.",
    responses=route_errors("not_found", "not_finalized"),
)
def get_withdrawal_proof(
    withdrawal_id: StateId,
    node: SequencerDep,
    batch: ProofBatch = None,
) -> WithdrawalProofOut:
    head = node.view.head
    if head.withdrawal(withdrawal_id) is None:
        raise api_error("not_found", f"there is no withdrawal {withdrawal_id} (as of the last block)")
    if batch is None:
        final = node.store.last_batch_with(BatchState.FINAL)
        if final is None:
            raise api_error(
                "not_finalized", "no batch is final yet: retry once the withdrawal's batch is final"
            )
        batch = final.id
    state = node.state_at_batch(batch)
    row = node.store.batch(batch)
    assert row is not None
    key = keys.withdrawal_key(withdrawal_id)
    value, proof, _, _ = proof_of(state, key)
    if value is None:
        raise api_error(
            "not_finalized",
            f"withdrawal {withdrawal_id} is not in the state of batch {batch} ({row.status}) yet: retry once "
            "a later batch is final",
            batch=batch,
        )
    w = Withdrawal.decode(value)
    return WithdrawalProofOut(
        id=withdrawal_id,
        recipient=checksum(w.recipient),
        amount=str(w.amount),
        key=hx(key),
        value=hx(value),
        batch=batch,
        batch_status=row.status,
        root=hx(state.root),
        proof=hx(proof),
    )
