"""The fee rule (docs/spec.md section 6, "Fees"): the signed price cap, the charge before a tx's rules,
the recipient's credit, a failed tx paying nothing, and the units of every tx type against the work
the transition actually does."""

from __future__ import annotations

import pytest

from protocol import keys, params
from protocol.deposits import Deposit
from protocol.fees import FeeSchedule, FeeScheduleError, fee_units
from protocol.hashing import ZERO32, keccak
from protocol.models import Arch
from protocol.receipts import Reason, Receipt
from protocol.records import Account
from protocol.state import State
from protocol.tensors import IntTensor
from protocol.testset import reveal_txs
from protocol.transition import BatchContext, apply_batch
from protocol.txs import CreateTask, FinalizeTask, RevealModel, Train, Tx, Withdraw
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT, FEES
from tests.support.harness import Harness
from tests.support.paper import paper_model
from tests.support.tasks import LINREG2, commit, linreg_task
from tests.support.wallets import ETH, Wallet, at_nonce, transfer

S = params.FIXED_SCALE


def units(raw: bytes, steps: int, macs: int = 0) -> int:
    """The spec's formula, written out: 40 a byte, 1,300 a step, 1 a MAC."""
    return 40 * len(raw) + 1_300 * steps + macs


def test_a_transfer_pays_its_bytes_and_its_step_to_the_recipient(h: Harness) -> None:
    a, b = h.wallets[0], h.wallets[1]
    raw = a.sign(transfer(b.address, ETH))
    receipt = h.expect(raw, Reason.OK)
    assert receipt.fee == units(raw, 1) * FEE_PRICE
    assert h.state.account(a.address).balance == 99 * ETH - receipt.fee
    assert h.state.account(b.address).balance == 101 * ETH
    assert h.state.account(FEE_RECIPIENT).balance == receipt.fee


def test_price_below_the_deployments_fails_and_changes_nothing(h: Harness) -> None:
    a, b = h.wallets[0], h.wallets[1]
    receipt = h.expect(a.sign(transfer(b.address, 1, FEE_PRICE - 1)), Reason.FEE_PRICE_TOO_LOW)
    assert receipt.fee == 0 and h.state.account(a.address).nonce == 0
    assert str(FEE_PRICE) in receipt.detail
    h.expect(a.sign(transfer(b.address, 1, FEE_PRICE + 7)), Reason.OK)  # a higher cap pays the price


def _alone(balance: int) -> tuple[Harness, Wallet]:
    h = Harness(balance=0)
    w = Wallet.from_seed(99)
    h.state = State.with_balances({w.address: balance})
    return h, w


def test_balance_below_the_fee_fails_and_the_exact_balance_pays() -> None:
    probe, w = _alone(ETH)
    raw = w.sign(transfer(b"\x01" * 20, 0), nonce=0)
    fee = probe.one(raw).fee
    assert fee == units(raw, 1) * FEE_PRICE
    short, w = _alone(fee - 1)
    receipt = short.expect(raw, Reason.FEE_UNPAID)
    assert str(fee) in receipt.detail and str(fee - 1) in receipt.detail
    assert short.state.account(FEE_RECIPIENT).balance == 0
    exact, w = _alone(fee)
    assert exact.expect(raw, Reason.OK).fee == fee
    assert exact.state.account(w.address) == Account(0, 1)
    assert exact.state.account(FEE_RECIPIENT).balance == fee


def test_the_fee_is_paid_before_the_txs_own_rules(h: Harness) -> None:
    """A transfer of the whole balance leaves nothing for the fee: it fails, and pays nothing."""
    a, b = h.wallets[0], h.wallets[1]
    h.expect(a.sign(transfer(b.address, 100 * ETH)), Reason.INSUFFICIENT_BALANCE)
    assert h.state.account(a.address).balance == 100 * ETH


@pytest.mark.parametrize("kind", ["rules", "nonce", "price", "signature"])
def test_a_failed_tx_pays_nothing(h: Harness, kind: str) -> None:
    a, b = h.wallets[0], h.wallets[1]
    raw = {
        "rules": a.sign(lambda n: Withdraw(n, b.address, 101 * ETH, max_fee_price=FEE_PRICE)),
        "nonce": a.sign(transfer(b.address, 1), nonce=3),
        "price": a.sign(transfer(b.address, 1, 0)),
        "signature": a.sign(transfer(b.address, 1))[:-33] + bytes(32) + b"\x1b",
    }[kind]
    receipt = h.one(raw)
    assert not receipt.success and receipt.fee == 0
    assert h.state.account(a.address) == Account(100 * ETH, 0)
    assert h.state.account(FEE_RECIPIENT).balance == 0


def test_deposits_and_a_zero_price_pay_nothing() -> None:
    who = Wallet.from_seed(7)
    free = FeeSchedule(0, FEE_RECIPIENT)
    raw = who.sign(transfer(b"\x01" * 20, 0, 0), nonce=0)
    result = apply_batch(State(), [Deposit(0, who.address, 5)], [raw], BatchContext(DOMAIN, free, 1_000))
    assert result.receipts[0].success and result.receipts[0].fee == 0
    assert result.post_state.account(who.address) == Account(5, 1)
    assert result.post_state.get(keys.account_key(FEE_RECIPIENT)) is None  # not even written


def _steps(r: Receipt) -> int:
    return r.last_step - r.first_step + 1


def test_each_tx_type_pays_for_its_bytes_its_steps_and_its_jobs_macs(h: Harness) -> None:
    """Every tx type's fee is the formula over its encoding and the steps the transition ran for it;
    a RevealModel's and a Train's job add their chunks and MACs."""
    paid: dict[str, int] = {}

    def run(name: str, raw: bytes, macs: int = 0) -> Receipt:
        receipt = h.expect(raw, Reason.OK)
        assert receipt.fee == units(raw, _steps(receipt), macs) * FEE_PRICE, name
        paid[name] = receipt.fee
        return receipt

    a, b = h.wallets[0], h.wallets[1]
    run("Transfer", a.sign(transfer(b.address, 1)))
    run("Withdraw", a.sign(lambda n: Withdraw(n, b.address, 1, max_fee_price=FEE_PRICE)))
    # a competition: CreateTask, CommitModel, RevealTestSet (in linreg_task and commit), RevealModel
    before = h.state.account(FEE_RECIPIENT).balance
    task_id, features, labels, salt = linreg_task(h)
    commit(h, 1, task_id, [S, S, 0])
    h.now += 100
    for tx in reveal_txs(LINREG2, task_id, salt, features, labels, max_fee_price=FEE_PRICE):
        run("RevealTestSet", h.wallets[0].sign(at_nonce(tx)))
    weights = IntTensor.vector([S, S, 0])
    reveal = run(
        "RevealModel",
        h.wallets[1].sign(
            lambda n: RevealModel(n, task_id, keccak(bytes([1])), weights, max_fee_price=FEE_PRICE)
        ),
        macs=150 * LINREG2.macs_per_sample,
    )
    assert _steps(reveal) == 1 + 3  # 150 samples in chunks of 64
    h.now += 100
    run("FinalizeTask", h.wallets[4].sign(lambda n: FinalizeTask(n, task_id, max_fee_price=FEE_PRICE)))
    # the shared model: CreateModel and AddData (in paper_model), Train
    model_id = paper_model(h)
    train = run(
        "Train",
        h.wallets[1].sign(lambda n: Train(n, model_id, 3, max_fee_price=FEE_PRICE)),
        macs=3 * 9 * 2,  # 3 epochs over the paper's 9 points of 1 feature: 2 MACs a point
    )
    assert _steps(train) == 1 + 3
    received = h.state.account(FEE_RECIPIENT).balance - before
    assert (
        received
        == sum(r.fee for res in h.results for r in res.receipts) - paid["Transfer"] - paid["Withdraw"]
    )


def test_fee_units_of_a_job_read_the_state(h: Harness) -> None:
    """`fee_units` counts a Train's steps and MACs from the model it trains; an unknown model adds none."""
    model_id = paper_model(h)
    tx: Tx = Train(0, model_id, 10, max_fee_price=FEE_PRICE)
    u = fee_units(tx, 100, h.state)
    assert (u.data, u.steps, u.macs) == (100, 11, 10 * 9 * 2)
    assert u.total == 40 * 100 + 1_300 * 11 + 180
    none = fee_units(Train(0, 77, 10, max_fee_price=FEE_PRICE), 100, h.state)
    assert (none.steps, none.macs) == (1, 0)


def test_a_create_task_with_its_reward_and_fee_exactly(h: Harness) -> None:
    """The reward is checked against the balance after the fee."""
    w = Wallet.from_seed(50)
    raw = w.sign(
        lambda n: CreateTask(
            n, Arch.LINREG, 1, 0, 0, ETH, h.now + 1, h.now + 2, ZERO32, ZERO32, max_fee_price=FEE_PRICE
        ),
        nonce=0,
    )
    fee = units(raw, 1) * FEE_PRICE
    h.state = State.with_balances({w.address: ETH + fee - 1})
    h.expect(raw, Reason.INSUFFICIENT_BALANCE)
    h.state = State.with_balances({w.address: ETH + fee})
    h.expect(raw, Reason.OK)
    assert h.state.account(w.address).balance == 0


@pytest.mark.parametrize(
    ("price", "recipient"), [(-1, FEE_RECIPIENT), (2**64, FEE_RECIPIENT), (1, bytes(20)), (1, b"\x01")]
)
def test_fee_schedule_validated(price: int, recipient: bytes) -> None:
    with pytest.raises(FeeScheduleError):
        FeeSchedule(price, recipient)
    assert FEES.price == FEE_PRICE > 0
