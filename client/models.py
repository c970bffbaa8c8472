"""Typed responses of the sequencer API (pydantic), one model a component of its OpenAPI schema.

Field names and required-ness are the server's (`SCHEMA_NAMES` maps each model to its component;
tests/client/test_models.py holds them to a running sequencer's `/openapi.json`, so drift fails a
test). Amounts arrive as decimal strings (u128 does not fit a JSON number) and are parsed to `int`;
unknown fields are ignored so that a newer server does not break an older client.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Info(_Model):
    """`GET /v1/info`: the EIP-712 signing domain, the public settings and the limits."""

    name: str
    version: str
    domain: dict[str, Any]
    settings: dict[str, Any]
    limits: dict[str, int]


class Fees(_Model):
    """`GET /v1/fees`: the deployment's fee schedule; a tx's `max_fee_price` must reach `price`."""

    price: int  # wei a fee unit
    recipient: str
    units_per_byte: int
    units_per_step: int
    units_per_mac: int


class FeeEstimate(_Model):
    """`POST /v1/fees/estimate`: what a tx would pay on the pending state."""

    data_bytes: int
    steps: int
    macs: int
    units: int
    price: int
    fee: int  # wei


class TxAccepted(_Model):
    """A submission the sequencer stored (202)."""

    hash: str
    status: Literal["pending"] = "pending"
    type: str
    sender: str
    nonce: int


class TxListAccepted(_Model):
    txs: list[TxAccepted]


class Receipt(_Model):
    """What executing a tx did: `success`, the protocol's `reason`, what it created, where it ran."""

    success: bool
    reason: str
    reason_code: int
    detail: str
    created_id: int | None = None
    fee: int = 0  # wei the tx paid (a failed tx pays nothing)
    block: int
    index: int
    first_step: int
    last_step: int
    batch: int


class TxInfo(_Model):
    """`GET /v1/txs/{hash}`: a tx and, once executed, its receipt."""

    hash: str
    status: Literal["pending", "executed", "failed"]
    type: str
    sender: str | None
    nonce: int
    raw: str
    received_at: float
    receipt: Receipt | None


class Account(_Model):
    """`GET /v1/accounts/{address}`: balance and nonce after the last block and after every accepted tx."""

    address: str
    balance: int
    nonce: int
    pending_balance: int
    pending_nonce: int
    block: int


class Best(_Model):
    miner: str
    score: int
    seq: int


class Standing(_Model):
    """One miner's line of a task's leaderboard."""

    miner: str
    seq: int
    status: Literal["committed", "scored"]
    score: int | None
    rank: int | None


class Task(_Model):
    """`GET /v1/tasks/{id}`: a competition, its phase and its leaderboard."""

    id: int
    submitter: str
    arch: str
    inputs: int
    hidden: int
    outputs: int
    reward: int
    commit_deadline: int
    reveal_deadline: int
    test_commitment: str
    train_data_ref: str
    test_revealed: bool
    test_root: str
    n_test: int
    revealed_chunks: int
    commit_count: int
    finalized: bool
    best: Best | None
    phase: Literal["commit", "reveal", "finalize", "finalized"]
    now: int
    leaderboard: list[Standing]
    block: int


class SharedModel(_Model):
    """`GET /v1/models/{id}`: a shared model's weights (bias first, scaled by `scale`)."""

    id: int
    owner: str
    n_features: int
    learning_rate: int
    n_points: int
    epochs_trained: int
    weights: list[int]
    scale: int
    points: list[list[int]] | None = None
    block: int


class DepositRange(_Model):
    start: int
    end: int


class Block(_Model):
    number: int
    batch: int
    timestamp: int
    pre_root: str
    post_root: str
    trace_root: str
    tx_count: int
    txs: list[str]
    deposits: DepositRange
    step_offset: int
    step_count: int
    created_at: float


class L1Tx(_Model):
    """The L1 transaction that posted a batch."""

    tx_hash: str
    block: int
    gas_used: int
    posted_at: float | None


BatchStatus = Literal["open", "sealed", "posted", "challenged", "final", "rolled_back"]
POSTED_STATUSES: frozenset[str] = frozenset({"posted", "challenged", "final"})


class Batch(_Model):
    """`GET /v1/batches/{id}`: a batch, its roots and its L1 transaction."""

    id: int
    status: BatchStatus
    origin: Literal["local", "foreign"] = "local"
    proposer: str | None = None
    timestamp: int
    first_block: int | None
    last_block: int | None
    tx_count: int
    data_bytes: int
    deposit_start: int
    deposit_count: int
    step_count: int
    prev_root: str
    post_root: str | None
    trace_root: str | None
    data_hash: str | None
    data: str | None = None
    l1: L1Tx | None

    @property
    def posted(self) -> bool:
        """On L1 (posted, challenged or final)."""
        return self.status in POSTED_STATUSES


class BatchPage(_Model):
    """`GET /v1/batches`: a page of batches; pass `next_after` as `after` for the next one."""

    batches: list[Batch]
    next_after: int | None


class Step(_Model):
    index: int
    kind: Literal["deposit", "tx", "score_chunk", "train_chunk"]
    block: int
    state_root: str
    cursor: int
    job_hash: str
    hash: str


class Steps(_Model):
    batch: int
    status: str
    prev_root: str
    trace_root: str | None
    total: int
    offset: int
    steps: list[Step]


class RootRef(_Model):
    root: str
    block: int | None = None
    batch: int | None = None


class Roots(_Model):
    """`GET /v1/state/root`: the current, last sealed and finalized state roots."""

    current: RootRef
    sealed: RootRef | None
    finalized: RootRef


class StateProof(_Model):
    key: str
    value: str | None
    root: str
    block: int | None
    batch: int | None
    proof: str
    depth: int
    terminal: Literal["leaf", "empty", "other"]


class WithdrawalProof(_Model):
    """`GET /v1/withdrawals/{id}/proof`: what `Bridge.claimWithdrawal` takes, against batch `batch`."""

    id: int
    recipient: str
    amount: int
    key: str
    value: str
    batch: int
    batch_status: str
    root: str
    proof: str


class ErrorDetail(_Model):
    model_config = ConfigDict(extra="allow", frozen=True)
    code: str
    message: str


class ErrorBody(_Model):
    """Every 4xx/5xx answer of the sequencer."""

    error: ErrorDetail


# Each model's component in the sequencer's OpenAPI schema.
SCHEMA_NAMES: dict[type[BaseModel], str] = {
    Info: "InfoOut",
    Fees: "FeesOut",
    FeeEstimate: "FeeEstimateOut",
    TxAccepted: "TxAccepted",
    TxListAccepted: "TxListAccepted",
    Receipt: "ReceiptOut",
    TxInfo: "TxOut",
    Account: "AccountOut",
    Best: "BestOut",
    Standing: "StandingOut",
    Task: "TaskOut",
    SharedModel: "ModelOut",
    DepositRange: "DepositRange",
    Block: "BlockOut",
    L1Tx: "L1Out",
    Batch: "BatchOut",
    BatchPage: "BatchListOut",
    Step: "StepOut",
    Steps: "StepsOut",
    RootRef: "RootRef",
    Roots: "RootsOut",
    StateProof: "ProofOut",
    WithdrawalProof: "WithdrawalProofOut",
    ErrorDetail: "ErrorDetail",
    ErrorBody: "ErrorBody",
}
