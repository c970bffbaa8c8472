"""Fault drills end to end, every role a process over JSON-RPC and HTTP (devnet with its default
windows, sequencer with its batcher, verifier): the sequencer commits one chosen wrong result
(`MLROLLUP_UNSAFE_FAULT`, sequencer/faults.py), the verifier detects it from L1 data alone, challenges,
and proves it; the proposer is slashed, the bad batches are deleted, the sequencer rolls back and posts
the same txs again, and every account, task, model and withdrawal ends as the honest run of the same
workload ends (the workloads' checks in tests/e2e/workload.py, which the honest run passes too).

`pytest -s tests/e2e/test_drills.py` prints, per drill, the time from the bad batch's L1 tx to the
slash, and the dispute's L1 txs with their gas. CI runs one drill of each step kind (a tx, a scoring
chunk, a training chunk, a trace fault: about 50 s each); the other four are marked `slow` and run
with `make crosscheck` (or `pytest -m slow tests/e2e/test_drills.py`).
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from l1_contracts.bindings.rollup import BatchStatus
from l1_contracts.devnet import dev_accounts
from tests.e2e.stack import Stack, fund, replay_from_l1, start_stack
from tests.e2e.workload import (
    Run,
    Users,
    check_all_executed,
    check_competition,
    check_paper_model,
    competition,
    shared_model,
    transfers,
    withdrawal,
)
from tests.support.servers import Roles, wait_until
from tests.support.wallets import ETH

pytestmark = pytest.mark.e2e
BATCH_AGE_S = 1.0
FUNDS = 10 * ETH


def ring_balances_unchanged(run: Run, users: Users) -> None:
    """The transfer rings pay each user as much as it pays: every balance is what was deposited, less
    the fees its txs paid."""
    for user in users.all:
        expected = FUNDS - run.fees_paid(user)
        assert run.balance(user) == expected, f"0x{user.address.hex()}: {run.balance(user)} != {expected}"


def transfer_workload(run: Run, users: Users, stack: Stack) -> Callable[[], None]:
    transfers(run, users, rounds=2)
    return lambda: ring_balances_unchanged(run, users)


def competition_workload(run: Run, users: Users, stack: Stack) -> Callable[[], None]:
    outcome = competition(run, users, samples=150)  # three scoring chunks a reveal
    return lambda: check_competition(run, outcome)


def model_workload(run: Run, users: Users, stack: Stack) -> Callable[[], None]:
    model_id = shared_model(run, users, epochs=1)
    return lambda: check_paper_model(run, model_id)


def withdrawal_workload(run: Run, users: Users, stack: Stack) -> Callable[[], None]:
    recipient = dev_accounts()[8].address
    withdrawal_id = withdrawal(run, users.miner_b, recipient, ETH)

    def check() -> None:
        wait_until(
            "the withdrawal final",
            lambda: stack.l2.http.get(f"/v1/withdrawals/{withdrawal_id}/proof").status_code == 200,
            timeout=120,
        )
        proof = stack.l2.get(f"/v1/withdrawals/{withdrawal_id}/proof")
        assert int(proof["amount"]) == ETH, proof  # not the forged leaf
        assert run.balance(users.miner_b) == FUNDS - ETH - run.fees_paid(users.miner_b)

    return check


DRILLS: dict[str, Callable[[Run, Users, Stack], Callable[[], None]]] = {
    "transfer_balance": transfer_workload,
    "score": competition_workload,
    "winner": competition_workload,
    "train_weights": model_workload,
    "withdrawal": withdrawal_workload,
    "score_mid_job": competition_workload,
    "trace_last_leaf": transfer_workload,
    "trace_short": transfer_workload,
}


@pytest.fixture
def roles(tmp_path: Path) -> Iterator[Roles]:
    roles = Roles(tmp_path)
    try:
        yield roles
    except BaseException:
        raise
    finally:
        roles.stop_all()


def l1_time(stack: Stack, tx_hash: str) -> int:
    block = stack.w3.eth.get_transaction_receipt(tx_hash)["blockNumber"]  # type: ignore[arg-type]
    return int(stack.w3.eth.get_block(block)["timestamp"])


def won_dispute(stack: Stack) -> dict[str, Any] | None:
    disputes = stack.verifier("/v1/disputes")["disputes"]
    won = [d for d in disputes if d["outcome"] == "won" and d["txs"]["withdraw"] is not None]
    return won[0] if won else None


CI_DRILLS = {"transfer_balance", "score_mid_job", "train_weights", "trace_short"}


@pytest.mark.parametrize(
    "kind", [k if k in CI_DRILLS else pytest.param(k, marks=pytest.mark.slow) for k in sorted(DRILLS)]
)
def test_fault_drill(kind: str, roles: Roles, tmp_path: Path) -> None:
    try:
        run_drill(kind, roles, tmp_path)
    except BaseException:
        for proc in roles.started:
            print(f"----- {proc.name} ({proc.log})\n{proc.output()[-5000:]}")
        raise
    roles.stop_all()
    for proc in roles.started:
        assert proc.popen.returncode in (0, -signal.SIGKILL), f"{proc.name} exited {proc.popen.returncode}"


def run_drill(kind: str, roles: Roles, tmp_path: Path) -> None:
    stack = start_stack(
        roles, tmp_path, batch_age_s=BATCH_AGE_S, sequencer_extra={"MLROLLUP_UNSAFE_FAULT": kind}
    )
    users = Users.make()
    fund(stack, users.all, FUNDS)
    run = Run(stack.l2, BATCH_AGE_S)
    check = DRILLS[kind](run, users, stack)

    dispute = None

    def settled() -> bool:
        nonlocal dispute
        dispute = won_dispute(stack)
        return dispute is not None

    wait_until(f"the verifier winning the {kind} dispute", settled, timeout=240)
    assert dispute is not None
    index = dispute["batch_index"]
    kinds = {"trace_last_leaf": "bad_last_step", "trace_short": "bad_last_step"}
    assert dispute["resolution"] == kinds.get(kind, "fraud_proven"), dispute

    # the honest sequencer posts the same txs again, and the chain derives from L1 as honest
    wait_until("the sequencer caught up", stack.l2.ready, timeout=120)
    transfers(run, users)  # and takes new ones
    wait_until(
        "the rolled-back index posted again",
        lambda: (
            stack.rollup.batch_count() > index
            and stack.rollup.get_batch(index).status != BatchStatus.DELETED
            and stack.l2.get("/v1/state/root")["current"]["root"] == "0x" + stack.rollup.last_root().hex()
        ),
        timeout=120,
    )
    check_all_executed(run)
    check()
    roots = replay_from_l1(stack.rollup, stack.bridge, stack.domain, stack.from_block)
    assert len(roots) == stack.rollup.batch_count()
    assert stack.verifier("/v1/status")["disputes"].get("won") == 1

    txs = {k: v for k, v in dispute["txs"].items() if v is not None and k != "resolved"}
    slashed_s = l1_time(stack, dispute["txs"]["resolved"]["hash"]) - l1_time(stack, dispute["batch_tx_hash"])
    gas = {k: int(v["gas_used"]) for k, v in txs.items() if v["gas_used"] is not None}
    reveals = stack.rollup.contract.events["StepsRevealed"]().get_logs(
        argument_filters={"batchIndex": index}, from_block=stack.from_block
    )
    for log in reveals[-1:]:  # the dishonest proposer's answer to the challenge
        gas["reveal (proposer)"] = int(
            stack.w3.eth.get_transaction_receipt(log["transactionHash"])["gasUsed"]
        )
    print(
        f"\ndrill {kind}: batch {index} slashed {slashed_s} s after its appendBatch; "
        f"{dispute['proof_kind']} at step {dispute['step_index']} of {dispute['revealed_steps']}; "
        f"{len(gas)} L1 txs: " + ", ".join(f"{k} {v:,}" for k, v in gas.items())
    )
