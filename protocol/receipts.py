"""Receipts and the numbered reasons a tx fails (docs/spec.md section 5, "Failure").

Solidity twin: the reason codes of `l1_contracts/src/prover/TxExecutorBase.sol`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Reason(IntEnum):
    """Why a tx failed; 0 is success. The numbers are part of the protocol (Solidity mirrors them)."""

    OK = 0
    DECODE_ERROR = 1
    BAD_SIGNATURE = 2
    BAD_NONCE = 3
    INSUFFICIENT_BALANCE = 4
    UNKNOWN_TASK = 5
    UNKNOWN_MODEL = 6
    WRONG_PHASE = 7
    NOT_SUBMITTER = 8
    ALREADY_COMMITTED = 9
    NO_COMMITMENT = 10
    HASH_MISMATCH = 11
    INVALID_PARAMS = 12
    FEE_PRICE_TOO_LOW = 13  # the tx's max_fee_price is below the deployment's fee price
    FEE_UNPAID = 14  # the sender's balance is below the tx's fee


class TxFailure(Exception):
    """Raised inside a tx handler to fail the tx with `reason`; the step then changes nothing."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Receipt:
    """The outcome of one tx: success or the reason it failed, and the steps it occupied."""

    tx_hash: bytes
    tx_index: int
    sender: bytes | None
    reason: Reason
    detail: str
    first_step: int
    last_step: int
    created_id: int | None = None  # the task, model or withdrawal id a successful tx created
    fee: int = 0  # wei the tx paid (0 for a failed tx: it pays nothing)

    @property
    def success(self) -> bool:
        return self.reason is Reason.OK
