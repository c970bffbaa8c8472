"""L2 fees (docs/spec.md section 6, "Fees"): the deployment's schedule, a tx's fee units, the charge.

A tx pays `fee_units * price` wei from its sender to the deployment's fee recipient, before its own
rules run; a tx that fails for any reason pays nothing (its step changes nothing). The units count
what the tx costs the rollup: its bytes on L1 (`FEE_UNITS_PER_BYTE`) and its steps
(`FEE_UNITS_PER_STEP` each: the tx's own and its job's chunks) plus its job's multiply-accumulates
(`FEE_UNITS_PER_MAC`). The L1 one-step prover (`TxExecutorBase._chargeFee`) computes the same.

Solidity twin: `l1_contracts/src/prover/TxExecutorBase.sol` (`_chargeFee`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from protocol import params
from protocol.errors import ProtocolError
from protocol.receipts import Reason, TxFailure
from protocol.records import TaskFlag
from protocol.state import Ledger, TypedReads
from protocol.txrules import credit, task_spec
from protocol.txs import RevealModel, Train, Tx

ZERO_ADDRESS = bytes(20)


class FeeScheduleError(ProtocolError):
    """A fee schedule the Rollup would refuse: a price above `MAX_FEE_PRICE` or a zero recipient."""


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """The deployment's fees, read from the Rollup (`feePrice`, `feeRecipient`): wei per fee unit, and
    the L2 address every fee is credited to. A price of 0 makes every tx free."""

    price: int
    recipient: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.price, int) or not 0 <= self.price <= params.MAX_FEE_PRICE:
            raise FeeScheduleError(
                f"fee price {self.price!r} must be an integer in [0, {params.MAX_FEE_PRICE}] wei a unit"
            )
        if len(self.recipient) != 20 or self.recipient == ZERO_ADDRESS:
            raise FeeScheduleError("the fee recipient must be a non-zero 20-byte L2 address")


@dataclass(frozen=True, slots=True)
class FeeUnits:
    """A tx's fee units by part: its bytes, its steps (1 + the job's chunks) and its job's MACs."""

    data: int
    steps: int
    macs: int

    @property
    def total(self) -> int:
        return (
            params.FEE_UNITS_PER_BYTE * self.data
            + params.FEE_UNITS_PER_STEP * self.steps
            + params.FEE_UNITS_PER_MAC * self.macs
        )


def job_work(tx: Tx, reads: TypedReads) -> tuple[int, int]:
    """`(chunks, macs)` of the job `tx` starts, from the state its handler reads: a RevealModel scores
    the task's `nTest` samples in `ceil(nTest / k)` chunks of `macs_per_sample` each; a Train runs
    `epochs` passes over the model's points, `ceil(nPoints / SHARED_CHUNK_POINTS)` chunks a pass, at
    `nFeatures + 1` MACs a point. `(0, 0)` for other txs and for a missing task or model (the tx then
    fails and pays nothing)."""
    if isinstance(tx, RevealModel):
        task = reads.task(tx.task_id)
        if task is None or not task.has(TaskFlag.TEST_REVEALED):
            return 0, 0
        spec = task_spec(task)
        return -(-task.n_test // spec.chunk_size), task.n_test * spec.macs_per_sample
    if isinstance(tx, Train):
        model = reads.model(tx.model_id)
        if model is None:
            return 0, 0
        chunks = -(-model.n_points // params.SHARED_CHUNK_POINTS)
        return tx.epochs * chunks, tx.epochs * model.n_points * (model.n_features + 1)
    return 0, 0


def fee_units(tx: Tx, size: int, reads: TypedReads) -> FeeUnits:
    """The fee units of `tx`, whose encoding is `size` bytes, on the state `reads` (before it runs)."""
    chunks, macs = job_work(tx, reads)
    return FeeUnits(data=size, steps=1 + chunks, macs=macs)


def charge_fee(ledger: Ledger, sender: bytes, tx: Tx, size: int, fees: FeeSchedule) -> int:
    """Check the signed price and debit the fee from `sender` to the fee recipient; returns it (wei).

    `TxFailure(FEE_PRICE_TOO_LOW)` when `tx.max_fee_price < fees.price`, `TxFailure(FEE_UNPAID)` when
    the balance is below the fee. A zero fee (price 0) touches no account.
    """
    if tx.max_fee_price < fees.price:
        raise TxFailure(
            Reason.FEE_PRICE_TOO_LOW,
            f"max_fee_price {tx.max_fee_price} is below the fee price {fees.price} wei a unit",
        )
    units = fee_units(tx, size, ledger).total
    fee = units * fees.price
    if fee == 0:
        return 0
    account = ledger.account(sender)
    if fee > account.balance:
        raise TxFailure(
            Reason.FEE_UNPAID,
            f"the fee is {fee} wei ({units} units at the fee price {fees.price} wei) and the balance "
            f"{account.balance} wei: deposit more",
        )
    ledger.put_account(sender, replace(account, balance=account.balance - fee))
    credit(ledger, fees.recipient, fee)
    return fee
