"""The API's response models. Hashes, roots and addresses are 0x-hex; wei amounts are decimal strings
(above 2^53, which JavaScript clients would round)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorOut


class JudgedBatchOut(BaseModel):
    """A posted batch and the verifier's verdict on it."""

    id: int = Field(description="row id: the paging key (an index appended again is a new row)")
    index: int
    status: str = Field(description="live, finalized or deleted on L1")
    verdict: str = Field(description="valid, wrong_roots, undecodable or off_chain (docs/spec.md 10)")
    reason: str
    proposer: str
    l1_tx_hash: str
    l1_block: int
    l1_timestamp: int
    prev_root: str
    post_root: str = Field(description="as posted")
    trace_root: str = Field(description="as posted")
    honest_post_root: str | None = Field(description="null when the data did not decode")
    honest_trace_root: str | None
    step_count: int | None = Field(description="steps of the honest execution")
    deposit_start: int
    deposit_end: int
    judged_at: float


class JudgedBatchListOut(BaseModel):
    batches: list[JudgedBatchOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null at the end")


class TxOut(BaseModel):
    """An L1 transaction of a dispute: its hash, and its gas when we sent it."""

    hash: str
    gas_used: int | None = Field(description="null when another account sent it")


class DisputeTxsOut(BaseModel):
    challenge: TxOut | None
    proof: TxOut | None
    timeout: TxOut | None
    resolved: TxOut | None = Field(description="the transaction that ended the dispute, whoever sent it")
    withdraw: TxOut | None = Field(description="our withdrawPayout that took this dispute's payout")


class DisputeOut(BaseModel):
    """One challenge of a wrong batch: ours, or another challenger's that the verifier followed."""

    id: int
    batch_index: int
    batch_tx_hash: str
    verdict: str
    challenger: str | None
    ours: bool
    phase: str = Field(description="challenging, awaiting_reveal, awaiting_proof or resolved")
    outcome: str | None = Field(description="won, lost, rolled_back, missed or unprovable; null while open")
    resolution: str | None = Field(
        description="the Rollup's: fraud_proven, bad_last_step, reveal_timeout, proof_timeout, "
        "batch_rolled_back"
    )
    step_index: int | None
    revealed_steps: int | None
    reveal_deadline: int | None
    proof_deadline: int | None
    proof_kind: str | None = Field(description="step (proveFraud) or last_step (proveBadLastStep)")
    payout_wei: str | None = Field(description="credited to us by the outcome")
    slashed_wei: str | None = Field(description="the proposer's bond taken")
    txs: DisputeTxsOut
    note: str
    opened_at: float
    resolved_at: float | None


class DisputeListOut(BaseModel):
    disputes: list[DisputeOut]
    next_after: int | None


class LatestBatchOut(BaseModel):
    index: int
    verdict: str
    post_root: str
    honest_post_root: str | None
    l1_tx_hash: str


class PayoutsOut(BaseModel):
    withdrawn_wei: str
    pending_wei: str | None = Field(description="credited and not withdrawn, as last read (null: watching)")


class StatusOut(BaseModel):
    rollup: str
    chain_id: int | None
    connected: bool
    caught_up: bool
    l1_block: int | None = Field(description="the last L1 block scanned")
    confirmations: int
    batch_count: int = Field(description="batches L1 holds")
    finalized_count: int
    latest_checked: LatestBatchOut | None
    disagreements: int = Field(description="batches judged wrong_roots or undecodable")
    verdicts: dict[str, int]
    disputes: dict[str, int] = Field(description="by outcome; `open` for those not ended")
    challenger: str | None = Field(description="the account that challenges and proves; null: watching only")
    challenger_bond_wei: str | None
    gas_spent: dict[str, int] = Field(description="L1 gas of our transactions, by kind")
    payouts: PayoutsOut
    last_error: str | None
    halted: str | None
