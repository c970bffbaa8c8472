"""A long honest run with every role a process: hundreds of txs of every type over many batches, the
verifier judging each batch from L1 data alone, and no batch ever challenged.

The competition's deadlines pass while the transfers and the shared models go on (its commit and
reveal phases keep their order and windows; nothing else waits for them)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from l1_contracts.devnet import dev_accounts
from protocol.paper import PAPER_X, PAPER_Y
from protocol.tensors import IntTensor
from protocol.txs import AddData, Train
from tests.e2e.stack import fund, replay_from_l1, start_stack
from tests.e2e.workload import (
    Run,
    Users,
    check_all_executed,
    check_competition,
    check_paper_model,
    finalize_competition,
    open_competition,
    reveal_competition,
    shared_model,
    transfers,
    withdrawal,
)
from tests.support.fees import FEE_PRICE
from tests.support.servers import Roles, wait_until
from tests.support.wallets import ETH

pytestmark = pytest.mark.e2e
TRANSFER_ROUNDS = 40  # of the four users' ring, before the withdrawals


def test_long_honest_run_is_never_challenged(tmp_path: Path) -> None:
    roles = Roles(tmp_path)
    try:
        stack = start_stack(roles, tmp_path, batch_age_s=1.0)
        users = Users.make(400)
        fund(stack, users.all, 20 * ETH)
        run = Run(stack.l2, 1.0)
        # the competition's deadlines pass while the rest of the workload goes on: transfer rounds
        # until the commit deadline passes, none ending later (the reveals start when they would have)
        round_ = open_competition(run, users, samples=150)
        rounds, took = 0, 0.0
        while rounds < TRANSFER_ROUNDS and not run.batch_time_past(round_.commit_deadline, ahead=took):
            started = time.monotonic()
            transfers(run, users, first=rounds)
            rounds, took = rounds + 1, time.monotonic() - started
        reveal_competition(run, round_)
        model_id = shared_model(run, users, epochs=1)
        check_paper_model(run, model_id)
        other = shared_model(run, users, epochs=3)
        model = stack.l2.get(f"/v1/models/{other}")
        xs, ys = IntTensor.matrix([[x] for x in PAPER_X]), IntTensor.vector(PAPER_Y)
        for _ in range(5):  # more data and more training on the second model
            run.done(
                users.trainer,
                lambda n, xs=xs, ys=ys: AddData(n, other, xs, ys, max_fee_price=FEE_PRICE),  # type: ignore[misc]
            )
            run.done(users.trainer, lambda n: Train(n, other, 2, max_fee_price=FEE_PRICE))
        transfers(run, users, rounds=TRANSFER_ROUNDS - rounds, first=rounds)
        outcome = finalize_competition(run, round_)
        check_competition(run, outcome)
        recipient = dev_accounts()[8].address
        for user in users.all:
            withdrawal(run, user, recipient, ETH // 10)
        transfers(run, users, rounds=10)
        assert len(run.acknowledged) >= 200
        check_all_executed(run)

        wait_until(
            "every batch on L1 and judged",
            lambda: (
                stack.l2.get("/v1/state/root")["current"]["root"] == "0x" + stack.rollup.last_root().hex()
                and stack.verifier("/v1/status")["latest_checked"]["index"] == stack.rollup.batch_count() - 1
            ),
            timeout=120,
        )
        status = stack.verifier("/v1/status")
        batches = stack.rollup.batch_count()
        assert batches >= 10, batches
        assert status["disagreements"] == 0 and status["disputes"] == {}, status
        assert set(status["verdicts"]) == {"valid"}, status
        assert stack.verifier("/v1/disputes")["disputes"] == []
        assert len(replay_from_l1(stack.rollup, stack.bridge, stack.domain, stack.from_block)) == batches
        assert stack.l2.get(f"/v1/models/{other}")["weights"] != model["weights"]
        print(f"\nhonest run: {len(run.acknowledged)} txs in {batches} batches, none challenged")
    except BaseException:
        for proc in roles.started:
            print(f"----- {proc.name} ({proc.log})\n{proc.output()[-5000:]}")
        raise
    finally:
        roles.stop_all()
    for proc in roles.started:
        assert proc.popen.returncode in (0, -signal.SIGKILL), f"{proc.name} exited {proc.popen.returncode}"
