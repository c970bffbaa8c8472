"""One round of the PoUW attack against a running stack, through the SDK (`mlrollup simulate pouw
--url`): the same `bench.pouw.round_plan` as the in-process round, sent as real txs to the sequencer.

The attacker's submitter account is a fresh key funded with the reward by a deposit on L1 (from
`--key`, an L1 account with ETH: by default dev account 4 of `mlrollup up`, one no role or the demo
uses), plus what every miner needs for its L2 fees, which the submitter hands out before the round;
the attacker's miner account and the honest miners are fresh keys. The balances are read from the
sequencer once the fee money is handed out and after FinalizeTask, with the fees each account's txs
paid (from their receipts).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from bench.pouw import SUBMITTER, AccountRow, RealRound, round_plan
from client import txs
from client.errors import TxRejected
from client.l1 import L1Account
from client.sdk import Client

FEE_FUNDS = 10**16  # wei each account gets for its L2 fees (a round costs a miner about 0.00002 ETH)

DEV_ACCOUNT = 4  # of `mlrollup up`'s devnet: 0 deploys, 1 proposes, 2 challenges, 3 is the demo's


def default_key() -> str:
    """Dev account 4's private key (the devnet's public test mnemonic)."""
    from l1_contracts.devnet import dev_accounts

    return dev_accounts(DEV_ACCOUNT + 1)[DEV_ACCOUNT].private_key


def _wait(check: Callable[[], bool], what: str, timeout: float) -> None:
    until = time.monotonic() + timeout
    while not check():
        if time.monotonic() > until:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)


def sdk_round(
    url: str,
    l1_url: str,
    key: str,
    honest_miners: int = 4,
    seed: int = 0,
    reward: int = 10 * 10**18,
    timeout: float = 120.0,
) -> RealRound:
    """The round of `bench.pouw.real_round` against the sequencer at `url`, with real deadlines.

    The windows follow the stack's settings as `mlrollup demo`'s do: a batch's txs run at its
    timestamp, which lags the clock by up to the batch max age, so the reveal window covers a batch
    age and the time the reveals take."""
    started = time.perf_counter()
    plan = round_plan(honest_miners, seed)
    names = plan.names
    clients = {n: Client(url, "0x" + secrets.token_bytes(32).hex()) for n in names}
    try:
        sub = clients[SUBMITTER]
        info = sub.info()
        l1 = L1Account(l1_url, key, sub.domain())
        miners = [n for n in names if n != SUBMITTER]
        l1.deposit(reward + FEE_FUNDS * (1 + len(miners)), sub.wallet.address)
        sub.wait_for_balance(reward + FEE_FUNDS * (1 + len(miners)), timeout=timeout)
        handed = sub.submit_many([txs.transfer(clients[n].wallet.address, FEE_FUNDS) for n in miners])
        sub.wait_for_receipt(handed[-1].hash, timeout=timeout)
        before = {n: clients[n].balance() for n in names}
        block = float(info.settings.get("block_interval_s", 1.0))
        batch_age = float(info.settings.get("batch_max_age_s", 5.0))
        commit_window, reveal_window = 5.0 + 2 * block, batch_age + 4 * block + 4.0

        now = int(time.time())
        commit_deadline = now + round(commit_window)
        reveal_deadline = commit_deadline + round(reveal_window)
        try:  # a free problem: refused at admission, nothing stored
            sub.create_task(
                plan.spec, 0, commit_deadline, reveal_deadline, plan.test_commitment(), plan.train_ref
            )
            zero_reward = "ACCEPTED"
        except TxRejected as exc:
            zero_reward = exc.code.upper()
        created = sub.create_task(
            plan.spec, reward, commit_deadline, reveal_deadline, plan.test_commitment(), plan.train_ref
        )
        task_id = sub.wait_for_receipt(created.hash, timeout=timeout).created_id
        assert task_id is not None
        hashes = [created.hash]
        for n in plan.miners:
            c = clients[n]
            hashes.append(c.commit_model(task_id, plan.model_commitment(task_id, n, c.wallet.address)).hash)
        for h in hashes[1:]:
            sub.wait_for_receipt(h, timeout=timeout)

        _wait(lambda: sub.task(task_id).phase == "reveal", "the reveal phase", timeout + commit_window)
        sent = sub.reveal_test_set(task_id, plan.test_salt, plan.test_x, plan.test_y)
        hashes += [s.hash for s in sent]
        sub.wait_for_receipt(sent[-1].hash, timeout=timeout)
        reveals = [clients[n].reveal_model(task_id, plan.salts[n], plan.weights[n]).hash for n in plan.miners]
        for h in reveals:
            sub.wait_for_receipt(h, timeout=timeout)
        hashes += reveals

        _wait(lambda: sub.task(task_id).phase == "finalize", "the finalize phase", timeout + reveal_window)
        closer = clients[plan.miners[0]]
        final = closer.finalize_task(task_id).hash
        sub.wait_for_receipt(final, timeout=timeout)
        hashes.append(final)

        task = sub.task(task_id)
        if task.best is None:
            raise RuntimeError(f"task {task_id} has no best miner after every miner revealed")
        scores = {s.miner.lower(): s.score for s in task.leaderboard}
        paid: dict[str, int] = {}  # by sender: the fees its txs paid
        for h in hashes:
            got = sub.tx(h)
            if got.receipt is not None and got.sender is not None:
                paid[got.sender.lower()] = paid.get(got.sender.lower(), 0) + got.receipt.fee
        rows = []
        for n in names:
            address = clients[n].address
            rows.append(
                AccountRow(
                    n,
                    address,
                    before[n],
                    clients[n].balance(),
                    scores.get(address.lower()),
                    paid.get(address.lower(), 0),
                )
            )
        winner = next(r.name for r in rows if r.address.lower() == task.best.miner.lower())
        steps = 0
        for h in hashes:
            receipt = sub.wait_for_receipt(h, timeout=timeout)
            steps += receipt.last_step - receipt.first_step + 1
        return RealRound(
            f"against the running stack at {url}, through the SDK (`client.sdk.Client`)",
            reward,
            plan.spec,
            plan.n_train,
            plan.n_test,
            task_id,
            tuple(rows),
            winner,
            zero_reward,
            len(hashes),
            steps,
            time.perf_counter() - started,
        )
    finally:
        for c in clients.values():
            c.close()
