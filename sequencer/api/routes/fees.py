"""The deployment's L2 fee schedule, and a tx's fee on the pending state (docs/api.md, "Fees")."""

from __future__ import annotations

from fastapi import APIRouter

from protocol import params
from protocol.codec import decode_tx
from protocol.errors import CodecError
from protocol.fees import fee_units
from protocol.signing import to_checksum_address
from sequencer.api.deps import SequencerDep
from sequencer.api.responses import route_errors
from sequencer.api.routes.txs import to_submission
from sequencer.api.schemas import FeeEstimateOut, FeesOut, TxSubmission
from sequencer.mempool import decode_refusal

router = APIRouter(tags=["fees"])


@router.get("/v1/fees", summary="The fee schedule: the price a tx's max_fee_price must reach, the units")
def fees(node: SequencerDep) -> FeesOut:
    return FeesOut(
        price=str(node.fees.price),
        recipient=to_checksum_address(node.fees.recipient),
        units_per_byte=params.FEE_UNITS_PER_BYTE,
        units_per_step=params.FEE_UNITS_PER_STEP,
        units_per_mac=params.FEE_UNITS_PER_MAC,
    )


@router.post(
    "/v1/fees/estimate",
    summary="The fee a signed tx would pay on the pending state (its units by part, and in wei)",
    description="Takes the body of `POST /v1/txs` (typed or raw); nothing is stored or checked "
    "beyond decoding: the answer is `fee_units` on the pending state times the fee price.",
    responses=route_errors("decode_error", "invalid_hex", "tx_too_large", "tensor_too_large"),
)
def estimate(body: TxSubmission, node: SequencerDep) -> FeeEstimateOut:
    raw = to_submission(body, node.domain).raw
    try:
        tx = decode_tx(raw).tx
    except CodecError as exc:
        raise decode_refusal(raw, str(exc)) from None  # the code admission gives the same bytes
    units = fee_units(tx, len(raw), node.view.pending)
    price = node.fees.price
    return FeeEstimateOut(
        data_bytes=units.data,
        steps=units.steps,
        macs=units.macs,
        units=units.total,
        price=str(price),
        fee=str(units.total * price),
    )
