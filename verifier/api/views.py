"""Rows of the database as the API's models."""

from __future__ import annotations

from verifier.api.schemas import DisputeOut, DisputeTxsOut, JudgedBatchOut, TxOut
from verifier.db.models import DisputeRow, JudgedBatchRow


def hx(data: bytes) -> str:
    return "0x" + data.hex()


def hx_or_none(data: bytes | None) -> str | None:
    return None if data is None else hx(data)


def wei_or_none(amount: int | None) -> str | None:
    return None if amount is None else str(amount)


def batch_out(row: JudgedBatchRow) -> JudgedBatchOut:
    return JudgedBatchOut(
        id=row.id,
        index=row.batch_index,
        status=row.status,
        verdict=row.verdict,
        reason=row.reason,
        proposer=row.proposer,
        l1_tx_hash=hx(row.l1_tx_hash),
        l1_block=row.l1_block,
        l1_timestamp=row.l1_timestamp,
        prev_root=hx(row.prev_root),
        post_root=hx(row.post_root),
        trace_root=hx(row.trace_root),
        honest_post_root=hx_or_none(row.honest_post_root),
        honest_trace_root=hx_or_none(row.honest_trace_root),
        step_count=row.step_count,
        deposit_start=row.deposit_start,
        deposit_end=row.deposit_end,
        judged_at=row.judged_at,
    )


def _tx(tx_hash: bytes | None, gas: int | None) -> TxOut | None:
    return None if tx_hash is None else TxOut(hash=hx(tx_hash), gas_used=gas)


def dispute_out(row: DisputeRow) -> DisputeOut:
    resolved_gas = None
    if row.resolved_tx is not None and row.resolved_tx == row.proof_tx:
        resolved_gas = row.proof_gas
    elif row.resolved_tx is not None and row.resolved_tx == row.timeout_tx:
        resolved_gas = row.timeout_gas
    return DisputeOut(
        id=row.id,
        batch_index=row.batch_index,
        batch_tx_hash=hx(row.batch_tx_hash),
        verdict=row.verdict,
        challenger=row.challenger,
        ours=row.ours,
        phase=row.phase,
        outcome=row.outcome,
        resolution=row.resolution,
        step_index=row.step_index,
        revealed_steps=row.revealed_steps,
        reveal_deadline=row.reveal_deadline,
        proof_deadline=row.proof_deadline,
        proof_kind=row.proof_kind,
        payout_wei=wei_or_none(row.payout),
        slashed_wei=wei_or_none(row.slashed),
        txs=DisputeTxsOut(
            challenge=_tx(row.challenge_tx, row.challenge_gas),
            proof=_tx(row.proof_tx, row.proof_gas),
            timeout=_tx(row.timeout_tx, row.timeout_gas),
            resolved=_tx(row.resolved_tx, resolved_gas),
            withdraw=_tx(row.withdraw_tx, row.withdraw_gas),
        ),
        note=row.note,
        opened_at=row.opened_at,
        resolved_at=row.resolved_at,
    )
