"""Request and response bodies of the API (pydantic), with the examples the OpenAPI page shows.

Bytes are 0x hex, addresses EIP-55 checksummed, amounts (u128) decimal strings.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from protocol.codec import encode_tx
from protocol.params import MAX_TX_BYTES
from protocol.signing import Domain, address_from_hex, typed_data
from protocol.txs import TX_CLASSES, SignedTx, Transfer

EXAMPLE_ADDRESS = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"
EXAMPLE_HASH = "0x" + "ab" * 32
EXAMPLE_ROOT = "0x" + "5e" * 32
EXAMPLE_SIGNATURE = "0x" + "11" * 32 + "22" * 32 + "1b"

# The examples are built by the codec, so that they stay well-formed txs whatever fields a tx type
# gains (only their signature is made up).
_EXAMPLE_TX = Transfer(0, address_from_hex(EXAMPLE_ADDRESS), 10**18, max_fee_price=10**9)
_EXAMPLE_MESSAGE = typed_data(Domain(1, bytes(20)), _EXAMPLE_TX)["message"]
TRANSFER_EXAMPLE: JsonDict = {
    "type": "Transfer",
    "message": {**_EXAMPLE_MESSAGE, "amount": str(_EXAMPLE_TX.amount)},
    "signature": EXAMPLE_SIGNATURE,
    "from": "0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69",
}
_EXAMPLE_SIGNED = SignedTx(
    _EXAMPLE_TX, int.from_bytes(b"\x11" * 32, "big"), int.from_bytes(b"\x22" * 32, "big"), 27
)
RAW_EXAMPLE: JsonDict = {"raw": "0x" + encode_tx(_EXAMPLE_SIGNED).hex()}

TX_TYPE_NAMES = [cls.__name__ for cls in TX_CLASSES.values()]
ADDRESS_SCHEMA: JsonDict = {"type": "string", "pattern": "^0[xX][0-9a-fA-F]{40}$"}


def _submission_schema(schema: JsonDict) -> None:
    """What `TxSubmission` accepts, as JSON Schema: the hex patterns, the tx type names, and either
    `raw` alone or a typed tx (`type` or `primaryType`, `message`, `signature`). What no schema can
    say (a tx that decodes, a message's fields by type, a signature that recovers) is the route's
    400/422/413 with its code (docs/api.md, "Errors")."""
    props = schema["properties"]
    assert isinstance(props, dict)
    props["raw"] = {
        "type": "string",
        "pattern": "^0[xX]([0-9a-fA-F]{2})*$",
        "maxLength": 2 + 2 * MAX_TX_BYTES,
        "description": "0x hex of the canonical signed tx (docs/spec.md section 3)",
    }
    for name in ("type", "primaryType"):
        props[name] = {"type": "string", "enum": list(TX_TYPE_NAMES), "description": "the tx type"}
    props["message"] = {"type": "object", "description": "the EIP-712 message: the tx's fields"}
    props["signature"] = {
        "type": "string",
        "pattern": "^0[xX][0-9a-fA-F]{130}$",
        "description": "0x hex of r ‖ s ‖ v (65 bytes, v 27/28 or 0/1)",
    }
    props["from"] = {**ADDRESS_SCHEMA, "description": "the signer's address, checked if given"}
    props["domain"] = {"$ref": "#/components/schemas/DomainIn"}
    props["types"] = {"type": "object", "description": "ignored (part of a typed-data document)"}
    schema["examples"] = [TRANSFER_EXAMPLE, RAW_EXAMPLE]
    typed = ("type", "primaryType", "message", "signature")
    schema["anyOf"] = [
        {"required": ["raw"], "not": {"anyOf": [{"required": [name]} for name in typed]}},
        {
            "required": ["message", "signature"],
            "oneOf": [
                {"required": ["type"], "not": {"required": ["primaryType"]}},
                {"required": ["primaryType"], "not": {"required": ["type"]}},
            ],
            "not": {"required": ["raw"]},
        },
    ]


def _domain_schema(schema: JsonDict) -> None:
    props = schema["properties"]
    assert isinstance(props, dict)
    props["verifyingContract"] = dict(ADDRESS_SCHEMA)


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str = Field(examples=["nonce_too_low"])
    message: str = Field(examples=["nonce 3 is already used: the account's next (pending) nonce is 5"])


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer."""

    error: ErrorDetail


class DomainIn(BaseModel):
    """The EIP-712 domain the client signed for (optional: checked against the deployment's)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_domain_schema)
    name: str | None = None
    version: str | None = None
    chainId: int
    verifyingContract: str


class TxSubmission(BaseModel):
    """One signed tx: either `raw` (its canonical bytes as hex) or `type` + `message` + `signature`
    (the EIP-712 typed data, e.g. a wallet's `eth_signTypedData_v4` document plus its result).
    `from`, when given, must be the address the signature recovers to: a tx signed for another
    domain is then refused as `wrong_domain` instead of being charged to a stranger's account."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra=_submission_schema,
    )
    raw: str | None = Field(None, description="0x hex of the canonical signed tx (docs/spec.md section 3)")
    type: str | None = Field(None, description=f"tx type: {', '.join(TX_TYPE_NAMES)}")
    primary_type: str | None = Field(
        None, alias="primaryType", description="the tx type, as a typed-data document names it"
    )
    message: dict[str, Any] | None = Field(None, description="the EIP-712 message: the tx's fields")
    signature: str | None = Field(None, description="0x hex of r ‖ s ‖ v (65 bytes, v 27/28 or 0/1)")
    sender: str | None = Field(None, alias="from", description="the signer's address, checked if given")
    domain: DomainIn | None = Field(None, description="the domain signed for, checked if given")
    types: dict[str, Any] | None = Field(None, description="ignored (part of a typed-data document)")

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        """A field is given or left out, never null: what the schema says (`_submission_schema`)."""
        if isinstance(data, dict):
            nulls = sorted(str(k) for k, v in data.items() if v is None)
            if nulls:
                raise ValueError(f"{nulls[0]} is null: leave it out instead")
        return data


class TxListSubmission(BaseModel):
    """Several txs, accepted all together or not at all."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"txs": [TRANSFER_EXAMPLE]}]})
    txs: list[TxSubmission] = Field(json_schema_extra={"minItems": 1})


class TxAccepted(BaseModel):
    hash: str = Field(examples=[EXAMPLE_HASH])
    status: Literal["pending"] = "pending"
    type: str = Field(examples=["Transfer"])
    sender: str = Field(examples=[EXAMPLE_ADDRESS])
    nonce: int


class TxListAccepted(BaseModel):
    txs: list[TxAccepted]


class ReceiptOut(BaseModel):
    success: bool
    reason: str = Field(description="OK or the protocol's failure reason", examples=["OK"])
    reason_code: int = Field(description="the reason's number (protocol/receipts.py)")
    detail: str
    created_id: int | None = Field(None, description="task, model or withdrawal id a successful tx created")
    fee: str = Field(
        "0", description="wei of L2 ETH the tx paid to the fee recipient (a failed tx pays nothing)"
    )
    block: int
    index: int = Field(description="position of the tx in its block")
    first_step: int = Field(description="first step of the tx within its block")
    last_step: int
    batch: int


class TxOut(BaseModel):
    hash: str
    status: Literal["pending", "executed", "failed"]
    type: str
    sender: str | None = Field(description="null for a tx of another proposer's batch that did not recover")
    nonce: int
    raw: str
    received_at: float
    receipt: ReceiptOut | None


class AccountOut(BaseModel):
    address: str
    balance: str = Field(description="wei, after the last block", examples=["1000000000000000000"])
    nonce: int = Field(description="the next nonce after the last block")
    pending_balance: str = Field(description="after every accepted tx")
    pending_nonce: int = Field(description="the nonce to sign the next tx with")
    block: int


class BestOut(BaseModel):
    miner: str
    score: int
    seq: int


class StandingOut(BaseModel):
    miner: str
    seq: int = Field(description="commit order (a tie goes to the earlier commitment)")
    status: Literal["committed", "scored"]
    score: int | None
    rank: int | None


class TaskOut(BaseModel):
    id: int
    submitter: str
    arch: str = Field(examples=["LINREG"])
    inputs: int
    hidden: int
    outputs: int
    reward: str
    commit_deadline: int
    reveal_deadline: int
    test_commitment: str
    train_data_ref: str
    test_revealed: bool
    test_root: str
    n_test: int
    revealed_chunks: int = Field(description="test chunks revealed so far; all of them make test_revealed")
    commit_count: int
    finalized: bool
    best: BestOut | None
    phase: Literal["commit", "reveal", "finalize", "finalized"]
    now: int = Field(description="the timestamp the phase is computed at (the next tx's)")
    leaderboard: list[StandingOut]
    block: int


class ModelOut(BaseModel):
    id: int
    owner: str
    n_features: int
    learning_rate: int = Field(description="scaled by 10^7")
    n_points: int
    epochs_trained: int
    weights: list[int] = Field(description="bias first, scaled by `scale`")
    scale: int
    points: list[list[int]] | None = Field(None, description="(x..., y) rows, with ?points=true")
    block: int


class DepositRange(BaseModel):
    start: int
    end: int = Field(description="exclusive")


class BlockOut(BaseModel):
    number: int
    batch: int
    timestamp: int
    pre_root: str
    post_root: str
    trace_root: str = Field(description="of the block's steps alone (the batch's trace is on the batch)")
    tx_count: int
    txs: list[str]
    deposits: DepositRange
    step_offset: int = Field(description="steps of the batch before this block")
    step_count: int
    created_at: float


class L1Out(BaseModel):
    tx_hash: str
    block: int
    gas_used: int
    posted_at: float | None


class BatchOut(BaseModel):
    id: int
    status: Literal["open", "sealed", "posted", "challenged", "final", "rolled_back"]
    origin: Literal["local", "foreign"] = Field(
        "local", description="foreign: another proposer's batch, adopted from L1"
    )
    proposer: str | None = Field(None, description="who posted it on L1, when known")
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
    trace_root: str | None = Field(description="set once sealed")
    data_hash: str | None
    data: str | None = Field(None, description="the batch data, with ?data=true")
    l1: L1Out | None


class BatchListOut(BaseModel):
    batches: list[BatchOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null at the end")


class StepOut(BaseModel):
    index: int
    kind: Literal["deposit", "tx", "score_chunk", "train_chunk"]
    block: int
    state_root: str
    cursor: int = Field(description="inputs of the batch consumed after the step")
    job_hash: str
    hash: str = Field(description="H(stateRoot ‖ u32 cursor ‖ jobHash): a trace leaf")


class StepsOut(BaseModel):
    batch: int
    status: str
    prev_root: str
    trace_root: str | None
    total: int
    offset: int
    steps: list[StepOut]


class RootRef(BaseModel):
    root: str
    block: int | None = None
    batch: int | None = None


class RootsOut(BaseModel):
    current: RootRef = Field(description="after the last block")
    sealed: RootRef | None = Field(description="after the last sealed (or posted) batch")
    finalized: RootRef = Field(description="after the last final batch (the genesis root before)")


class ProofOut(BaseModel):
    key: str
    value: str | None = Field(description="null: the proof shows the key is absent")
    root: str
    block: int | None
    batch: int | None
    proof: str = Field(description="compact proof bytes (docs/spec.md section 2)")
    depth: int
    terminal: Literal["leaf", "empty", "other"]


class WithdrawalProofOut(BaseModel):
    id: int
    recipient: str
    amount: str
    key: str
    value: str
    batch: int = Field(description="the batch whose post-state root the proof is against")
    batch_status: str
    root: str
    proof: str


class FeesOut(BaseModel):
    """The deployment's fee schedule (the Rollup's `feePrice` and `feeRecipient`, docs/spec.md section 6)."""

    price: str = Field(
        description="wei a fee unit: a tx's signed max_fee_price must be at least this",
        examples=["1000000000"],
    )
    recipient: str = Field(description="the L2 address credited with every fee", examples=[EXAMPLE_ADDRESS])
    units_per_byte: int = Field(description="fee units a byte of the signed tx (its L1 data)")
    units_per_step: int = Field(description="fee units a step: the tx's own and each chunk of its job")
    units_per_mac: int = Field(description="fee units a multiply-accumulate of its job (scoring, training)")


class FeeEstimateOut(BaseModel):
    data_bytes: int = Field(description="bytes of the signed tx")
    steps: int = Field(description="steps: 1 for the tx, plus its job's chunks")
    macs: int = Field(description="multiply-accumulates of its job")
    units: int = Field(description="fee units in all")
    price: str = Field(description="wei a unit")
    fee: str = Field(description="wei the tx pays on the pending state: units x price")


class InfoOut(BaseModel):
    name: str
    version: str
    domain: dict[str, Any]
    settings: dict[str, Any]
    limits: dict[str, int]
