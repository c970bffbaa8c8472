"""The story of `mlrollup demo`, told against a running stack through the SDK and `client.l1`.

A submitter deposits on L1 and waits for L2 to credit it, then funds a digits classification task
(an MLP 64-16-10, `client.digits`) whose test set it keeps hidden behind a commitment. The miners
commit to their weights before the commit deadline; one is a copycat who copies another miner's
commitment from its public tx. Past the commit deadline the submitter reveals the test set, and
the miners reveal their weights, which the rollup scores on it: every score must equal the one
`client.miner.local_score` computes locally, bit for bit. The copycat's reveal of the copied weights
is refused (the commitment binds the miner's address). Past the reveal deadline anyone finalizes the
task and the best score is paid. Meanwhile a trainer creates the paper's shared linear regression,
adds its nine points and trains it 2,000 epochs to the paper's weights. The winner withdraws its
reward; once the withdrawal's batch is final on L1 the submitter relays its claim to the Bridge.
At the end: the balances, the batches the rollup posted and finalized during the demo, their L1
gas (the receipts of the Rollup's `appendBatch` and `finalize` transactions), and the verifier's
status.

`run_story` returns a `StoryResult`; a disagreement between the rollup and the local computation is
a `DemoError`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from hexbytes import HexBytes
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from client import digits as digits_task
from client import miner
from client import txs as build
from client.digits import Digits, MinerPlan, Strategy
from client.errors import TxRejected
from client.l1 import L1Account, claim_when_final, deposit_and_wait
from client.sdk import Client
from protocol.codec import decode_tx
from protocol.paper import PAPER_EPOCHS, PAPER_INITIAL, PAPER_LEARNING_RATE, PAPER_X, PAPER_Y
from protocol.paper import PAPER_WEIGHTS as PAPER_TABLE
from protocol.tensors import IntTensor
from protocol.txs import CommitModel, RevealModel

ETH = 10**18
FEE_FUNDS = ETH // 100  # what the submitter gives each miner and the trainer for their fees
PAPER_WEIGHTS = PAPER_TABLE[PAPER_EPOCHS]  # the paper's experiment (protocol/paper.py)


class DemoError(Exception):
    """The rollup did not do what the demo checks (a score, a payment, a weight, a refusal)."""


@dataclass(frozen=True)
class DemoConfig:
    """Where the stack is and the story's amounts and windows."""

    url: str
    l1_url: str
    verifier_url: str | None
    key: str  # the submitter: a funded L1 account
    reward: int = ETH
    deposit: int = 3 * ETH // 2
    commit_window_s: float | None = None  # None: from the sequencer's block interval
    reveal_window_s: float | None = None  # None: from the sequencer's batch max age
    timeout_s: float = 300.0


@dataclass
class MinerResult:
    """One miner's part: what it committed, what the rollup scored, what it was paid."""

    name: str
    strategy: str
    description: str
    address: str
    accuracy: float | None = None  # of its fixed-point weights on the test set
    local_score: int | None = None  # client.miner.local_score before the reveal
    score: int | None = None  # the rollup's (the leaderboard's), equal to local_score
    rank: int | None = None
    reward: int = 0
    refused: str | None = None  # the reason code its reveal was refused with
    seq: int | None = None  # its commitment's order


@dataclass(frozen=True)
class Balance:
    """An account's L2 balance before and after the demo (wei)."""

    name: str
    address: str
    l2_before: int
    l2_after: int


@dataclass(frozen=True)
class WithdrawalResult:
    id: int
    recipient: str  # the winner
    amount: int
    batch: int  # the batch that executed it
    proof_batch: int  # the final batch the claim proved against
    claim_tx: str
    claim_gas: int
    l1_balance_before: int
    l1_balance_after: int

    @property
    def l1_balance_delta(self) -> int:
        return self.l1_balance_after - self.l1_balance_before


@dataclass(frozen=True)
class SharedModelResult:
    id: int
    weights: tuple[int, ...]
    expected: tuple[int, ...]
    points: int
    epochs: int
    train_steps: int


@dataclass(frozen=True)
class RollupGas:
    """The L1 gas of the Rollup's transactions during the demo, from their receipts."""

    append_batch: int
    append_txs: int
    finalize: int
    finalize_txs: int

    @property
    def total(self) -> int:
        return self.append_batch + self.finalize


@dataclass
class StoryResult:
    """Everything the story saw, for the summary."""

    stack: dict[str, Any]
    task_id: int
    n_train: int
    n_test: int
    reward: int
    commit_deadline: int
    reveal_deadline: int
    miners: list[MinerResult]
    winner: str
    winner_address: str
    best_by_local_score: str
    balances: list[Balance]
    deposited: int
    withdrawn: int
    submitter_l1_delta: int
    withdrawal: WithdrawalResult
    shared_model: SharedModelResult
    batches_posted: list[int]
    batches_finalized: list[int]
    l1_gas: RollupGas
    verifier: dict[str, Any] | None
    windows: tuple[float, float]  # the commit and reveal windows used (seconds)
    timings: dict[str, float] = field(default_factory=dict)


# --- progress -----------------------------------------------------------------------------------


def new_progress(console: Any) -> Progress:
    """The demo's progress display: a spinner, the step, a bar, its status, the time taken."""
    return Progress(
        SpinnerColumn(finished_text="[green]✓[/]"),
        TextColumn("{task.description}"),
        BarColumn(bar_width=30),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
    )


@contextmanager
def step(progress: Progress, description: str, total: float | None = None) -> Iterator[TaskID]:
    """A line of `progress` for one step; marked done at the end (left as it is on an error)."""
    task = progress.add_task(description, total=total, status="")
    yield task
    total_now = next(t.total for t in progress.tasks if t.id == task) or 1
    progress.update(task, total=total_now, completed=total_now)


# --- the story --------------------------------------------------------------------------------


@dataclass
class _Actor:
    name: str
    client: Client
    key: str

    @property
    def address(self) -> str:
        return self.client.address


def _fresh_key() -> str:
    return "0x" + secrets.token_bytes(32).hex()


def _wait(check: Callable[[], bool], what: str, timeout: float, poll_s: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise DemoError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll_s)


def _windows(config: DemoConfig, settings: dict[str, Any]) -> tuple[float, float]:
    """The commit and reveal windows. A batch's txs all run at the batch's timestamp, which lags
    the clock by up to the batch max age: the reveals must run in a batch opened before the reveal
    deadline, so the reveal window covers one batch age and the time the reveals take."""
    block = float(settings.get("block_interval_s", 1.0))
    batch_age = float(settings.get("batch_max_age_s", 5.0))
    commit = config.commit_window_s if config.commit_window_s is not None else 5.0 + 2 * block
    reveal = config.reveal_window_s if config.reveal_window_s is not None else batch_age + 4 * block + 6.0
    return commit, reveal


def _wait_for_phase(
    progress: Progress, client: Client, task_id: int, phase: str, start: int, deadline: int, timeout: float
) -> None:
    """Until task `task_id` is in `phase` (the next tx's timestamp past `deadline`), with a bar."""
    with step(progress, f"waiting for the {phase} phase", total=max(deadline - start, 1)) as bar:
        until = time.monotonic() + timeout
        while True:
            task = client.task(task_id)
            progress.update(
                bar, completed=min(max(task.now - start, 0), deadline - start), status=f"L2 time {task.now}"
            )
            if task.phase == phase:
                return
            if time.monotonic() > until:
                raise DemoError(f"task {task_id} is still in phase {task.phase} after {timeout:.0f} s")
            time.sleep(0.25)


def _train_shared_model(progress: Progress, url: str, key: str, timeout: float) -> SharedModelResult:
    """The trainer's part (with `key`, funded for its fees): the paper's regression created, fed its
    nine points and trained 2,000 epochs, all through the rollup; its weights must be the paper's."""
    with Client(url, key) as trainer, step(progress, "shared model: the paper's regression") as bar:
        progress.update(bar, status="CreateModel")
        created = trainer.create_model(1, PAPER_LEARNING_RATE, list(PAPER_INITIAL))
        model_id = trainer.wait_for_receipt(created.hash, timeout=timeout).created_id
        assert model_id is not None
        progress.update(bar, status=f"model {model_id}: AddData + Train({PAPER_EPOCHS})")
        points = build.add_data(model_id, [[x] for x in PAPER_X], list(PAPER_Y))
        sent = trainer.submit_many([points, build.train(model_id, PAPER_EPOCHS)])
        receipt = trainer.wait_for_receipt(sent[-1].hash, timeout=timeout)
        model = trainer.model(model_id)
        progress.update(bar, status=f"weights {model.weights[0]}, {model.weights[1]}")
    if tuple(model.weights) != PAPER_WEIGHTS or model.epochs_trained != PAPER_EPOCHS:
        raise DemoError(
            f"the shared model has weights {model.weights} after {model.epochs_trained} epochs; "
            f"the paper's are {PAPER_WEIGHTS} after {PAPER_EPOCHS}"
        )
    return SharedModelResult(
        model_id,
        tuple(model.weights),
        PAPER_WEIGHTS,
        model.n_points,
        model.epochs_trained,
        receipt.last_step - receipt.first_step + 1,
    )


def _raw(client: Client, tx_hash: str) -> Any:
    """A tx another account sent, read back from the sequencer and decoded: what a copycat sees."""
    return decode_tx(bytes.fromhex(client.tx(tx_hash).raw.removeprefix("0x"))).tx


def _verifier_status(url: str) -> dict[str, Any]:
    answer = httpx.get(url.rstrip("/") + "/v1/status", timeout=10)
    answer.raise_for_status()
    status: dict[str, Any] = answer.json()
    return status


def run_story(
    config: DemoConfig,
    data: Digits,
    plans: Sequence[MinerPlan],
    weights: dict[str, IntTensor],
    progress: Progress,
) -> StoryResult:
    """The whole story against the stack of `config`; `weights` holds each non-copycat miner's."""
    started = time.monotonic()
    timings: dict[str, float] = {}
    timeout = config.timeout_s
    spec = digits_task.SPEC
    say = progress.console.print
    submitter = _Actor("submitter", Client(config.url, config.key), config.key)
    actors: dict[str, _Actor] = {}
    helpers: list[_Actor] = []  # the trainer
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-shared-model")
    try:
        info = submitter.client.info()
        domain = submitter.client.domain()
        l1 = L1Account(config.l1_url, config.key, domain)
        start_block = int(l1.w3.eth.block_number)
        if config.verifier_url:
            try:
                _verifier_status(config.verifier_url)
            except httpx.HTTPError as exc:
                raise DemoError(
                    f"the verifier at {config.verifier_url} does not answer ({exc}): pass its "
                    "--verifier-url, or --verifier-url '' to go without it"
                ) from None
        challenge_window = int(l1.rollup.challenge_window())
        stack: dict[str, Any] = {
            "url": config.url,
            "l1_url": config.l1_url,
            "verifier_url": config.verifier_url,
            "chain_id": domain.chain_id,
            "rollup": info.domain.get("verifyingContract"),
            "challenge_window_s": challenge_window,
            "batch_max_age_s": info.settings.get("batch_max_age_s"),
            "block_interval_s": info.settings.get("block_interval_s"),
            "l1_start_block": start_block,
        }
        for plan in plans:
            key = _fresh_key()
            actors[plan.name] = _Actor(plan.name, Client(config.url, key), key)
        trainer_key = _fresh_key()
        trainer = _Actor("trainer", Client(config.url, trainer_key), trainer_key)
        helpers.append(trainer)
        everyone = [(a.name, a.address) for a in (submitter, *actors.values(), trainer)]
        # every tx pays a fee to the deployment's recipient: its balance is counted too, so the
        # balances still add up (unless it is one of ours already)
        recipient = submitter.client.fee_schedule().recipient
        if all(address.lower() != recipient.lower() for _, address in everyone):
            everyone.append(("fee recipient", recipient))
        l2_before = {name: submitter.client.balance(address) for name, address in everyone}
        l1_submitter_before = l1.balance()
        say(
            f"submitter {submitter.address}; miners "
            + ", ".join(f"{a.name} {a.address}" for a in actors.values())
        )

        # 1. The submitter funds its account on L2 through the Bridge. (A deposit enters L2 only in a
        # batch's first block: it goes first, so that no batch of ours is open to wait for.)
        with step(progress, f"deposit {config.deposit / ETH:g} ETH on L1, wait for L2") as bar:
            account = deposit_and_wait(submitter.client, l1, config.deposit, timeout=timeout)
            progress.update(bar, status=f"L2 balance {account.balance / ETH:g} ETH")
        timings["deposit"] = time.monotonic() - started

        # Every tx pays its fee in L2 ETH: the submitter gives the miners and the trainer enough.
        with step(progress, f"fund the miners and the trainer ({FEE_FUNDS / ETH:g} ETH each, for fees)"):
            funded = submitter.client.submit_many(
                [build.transfer(a.address, FEE_FUNDS) for a in (*actors.values(), trainer)]
            )
            submitter.client.wait_for_receipt(funded[-1].hash, timeout=timeout)

        # The shared model meanwhile, by a trainer of its own.
        shared = pool.submit(_train_shared_model, progress, config.url, trainer_key, timeout)

        # 2. The task, with its hidden test set's commitment.
        commit_window, reveal_window = _windows(config, info.settings)
        test_salt = miner.new_salt()
        now = int(time.time())
        commit_deadline = now + round(commit_window)
        reveal_deadline = commit_deadline + round(reveal_window)
        with step(progress, f"CreateTask: MLP 64-16-10, {data.n_test} hidden test samples") as bar:
            created = submitter.client.create_task(
                spec,
                config.reward,
                commit_deadline,
                reveal_deadline,
                miner.test_set_commitment(spec, data.features, data.labels, test_salt),
            )
            task_id = submitter.client.wait_for_receipt(created.hash, timeout=timeout).created_id
            assert task_id is not None
            progress.update(bar, status=f"task {task_id}, reward {config.reward / ETH:g} ETH")

        # 3. Commitments; the copycat copies the first honest miner's from its public tx.
        results = {
            p.name: MinerResult(p.name, p.strategy.value, p.description, actors[p.name].address)
            for p in plans
        }
        salts = {name: miner.new_salt() for name in weights}
        commits: dict[str, str] = {}
        with step(progress, "CommitModel: each miner commits", total=len(plans)) as bar:
            for plan in plans:
                c = actors[plan.name].client
                if plan.strategy == Strategy.COPYCAT:
                    assert plan.copies is not None
                    copied = _raw(c, commits[plan.copies])
                    assert isinstance(copied, CommitModel)
                    commits[plan.name] = c.commit_model(task_id, copied.commitment).hash
                else:
                    own = miner.commitment(task_id, c.address, weights[plan.name], salts[plan.name])
                    commits[plan.name] = c.commit_model(task_id, own).hash
            for plan in plans:
                actors[plan.name].client.wait_for_receipt(commits[plan.name], timeout=timeout)
                progress.advance(bar)
        timings["committed"] = time.monotonic() - started

        # Each miner's score as the rollup will give it on the test set (public once revealed),
        # computed locally while the commit window runs out.
        with digits_task.one_thread():
            for plan in plans:
                if plan.name in weights:
                    w = weights[plan.name]
                    results[plan.name].local_score = miner.local_score(spec, w, data.features, data.labels)
                    results[plan.name].accuracy = digits_task.accuracy(w, data.features, data.labels)

        # 4. Past the commit deadline: the test set, then the weights.
        _wait_for_phase(
            progress, submitter.client, task_id, "reveal", now, commit_deadline, timeout + commit_window
        )
        # The reveals follow the test set's txs at once: each is dry-run after every pending tx, so
        # the test set counts as revealed already, and the reveal window is not spent waiting.
        with step(progress, f"RevealTestSet: {data.n_test} samples × 64 pixels") as bar:
            revealed_test = submitter.client.reveal_test_set(task_id, test_salt, data.features, data.labels)
            progress.update(bar, status=f"{len(revealed_test)} tx(s)")
        reveals: dict[str, str] = {}
        with step(progress, "RevealModel: the rollup scores each miner", total=len(plans)) as bar:
            for plan in plans:
                c = actors[plan.name].client
                if plan.strategy != Strategy.COPYCAT:
                    reveals[plan.name] = c.reveal_model(task_id, salts[plan.name], weights[plan.name]).hash
                    continue
                assert plan.copies is not None
                copied_reveal = _raw(c, reveals[plan.copies])
                assert isinstance(copied_reveal, RevealModel)
                try:
                    reveals[plan.name] = c.reveal_model(
                        task_id, copied_reveal.salt, copied_reveal.weights
                    ).hash
                except TxRejected as exc:
                    results[plan.name].refused = exc.code
                    say(
                        f"{plan.name}'s reveal of {plan.copies}'s weights refused: {exc.code} ({exc.message})"
                    )
                    progress.advance(bar)
                else:
                    raise DemoError(f"the copycat {plan.name}'s reveal of copied weights was accepted")
            for tx in revealed_test:
                submitter.client.wait_for_receipt(tx.hash, timeout=timeout)
            for name, tx_hash in reveals.items():
                actors[name].client.wait_for_receipt(tx_hash, timeout=timeout)
                progress.advance(bar)
        task = submitter.client.task(task_id)
        standings = {s.miner: s for s in task.leaderboard}
        for result in results.values():
            standing = standings.get(result.address)
            if standing is None:
                raise DemoError(f"{result.name} is not on task {task_id}'s leaderboard")
            result.score, result.rank, result.seq = standing.score, standing.rank, standing.seq
            if result.score != result.local_score:
                raise DemoError(
                    f"{result.name}: the rollup scored {result.score}, "
                    f"the local score is {result.local_score}"
                )
        say(
            "scores (the rollup's = local, bit for bit): "
            + ", ".join(f"{r.name} {r.score}" for r in results.values())
        )
        timings["revealed"] = time.monotonic() - started

        # 5. Past the reveal deadline: anyone finalizes, the best score is paid.
        _wait_for_phase(
            progress,
            submitter.client,
            task_id,
            "finalize",
            commit_deadline,
            reveal_deadline,
            timeout + reveal_window,
        )
        # the leader's balance before FinalizeTask: the reward is what it gains (its fees were paid)
        leader_before = None if task.best is None else submitter.client.balance(task.best.miner)
        with step(progress, "FinalizeTask: the best score is paid") as bar:
            final = submitter.client.finalize_task(task_id)
            submitter.client.wait_for_receipt(final.hash, timeout=timeout)
            task = submitter.client.task(task_id)
            if task.best is None:
                raise DemoError(f"task {task_id} has no best miner")
            by_address = {r.address: r for r in results.values()}
            winner = by_address[task.best.miner]
            winner.reward = task.reward
            progress.update(bar, status=f"{winner.name} wins {task.reward / ETH:g} ETH")
        scored = [r for r in results.values() if r.local_score is not None and r.seq is not None]
        best = max(scored, key=lambda r: (r.local_score or 0, -(r.seq or 0)))
        if winner.name != best.name:
            raise DemoError(f"the rollup paid {winner.name}; the best local score is {best.name}'s")
        paid = actors[winner.name].client.balance()
        if leader_before is None or paid != leader_before + config.reward:
            raise DemoError(f"{winner.name}'s L2 balance is {paid} after winning {config.reward}")
        timings["finalized"] = time.monotonic() - started

        # 6. The winner withdraws its reward; the submitter relays the claim once it is final.
        winner_actor = actors[winner.name]
        winner_l1 = L1Account(config.l1_url, winner_actor.key, domain)
        l1_winner_before = winner_l1.balance()
        expected = float(info.settings.get("batch_max_age_s", 5.0)) + challenge_window + 3.0
        with step(
            progress, f"Withdraw {config.reward / ETH:g} ETH, wait for finality", total=expected
        ) as bar:
            out = winner_actor.client.withdraw(config.reward)
            receipt = winner_actor.client.wait_for_receipt(out.hash, timeout=timeout)
            assert receipt.created_id is not None
            t0 = time.monotonic()
            until = t0 + timeout
            while True:
                batch = winner_actor.client.batch(receipt.batch)
                progress.update(
                    bar,
                    completed=min(time.monotonic() - t0, expected),
                    status=f"batch {batch.id} {batch.status}",
                )
                if batch.status == "final":
                    break
                if time.monotonic() > until:
                    raise DemoError(f"batch {batch.id} is {batch.status}, not final, after {timeout:.0f} s")
                time.sleep(0.25)
        with step(progress, "claim on L1 (relayed by the submitter)") as bar:
            proof, claimed = claim_when_final(winner_actor.client, l1, receipt.created_id, timeout=timeout)
            _wait(lambda: l1.is_claimed(proof.id), "the claim", timeout)
            l1_winner_after = winner_l1.balance()
            progress.update(bar, status=f"L1 tx {claimed.tx_hash[:10]}…, gas {claimed.gas_used:,}")
        withdrawal = WithdrawalResult(
            proof.id,
            winner.address,
            proof.amount,
            receipt.batch,
            proof.batch,
            claimed.tx_hash,
            claimed.gas_used,
            l1_winner_before,
            l1_winner_after,
        )
        if withdrawal.l1_balance_delta != config.reward:
            raise DemoError(
                f"the winner's L1 balance grew by {withdrawal.l1_balance_delta}, not {config.reward}"
            )
        timings["claimed"] = time.monotonic() - started

        shared_model = shared.result(timeout=timeout)
        balances = [
            Balance(name, address, l2_before[name], submitter.client.balance(address))
            for name, address in everyone
        ]
        submitter_l1_delta = l1.balance() - l1_submitter_before

        # 7. What L1 saw: the Rollup's transactions during the demo, and the verifier's verdicts.
        appended = l1.rollup.batches_appended(start_block)
        finalized_events = l1.rollup.batches_finalized(start_block)
        posted = [a.index for a in appended]
        finalized = sorted({f.index for f in finalized_events} & set(posted))
        gas = _rollup_gas(l1, [a.tx_hash for a in appended], [f.tx_hash for f in finalized_events])
        verifier = None
        if config.verifier_url:
            verifier = _watch_verifier(progress, config.verifier_url, max(posted, default=-1), timeout)
        timings["total"] = time.monotonic() - started
        return StoryResult(
            stack,
            task_id,
            data.n_train,
            data.n_test,
            config.reward,
            commit_deadline,
            reveal_deadline,
            list(results.values()),
            winner.name,
            winner.address,
            best.name,
            balances,
            config.deposit,
            withdrawal.amount,
            submitter_l1_delta,
            withdrawal,
            shared_model,
            posted,
            finalized,
            gas,
            verifier,
            (commit_window, reveal_window),
            timings,
        )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        for actor in (submitter, *actors.values(), *helpers):
            actor.client.close()


def _rollup_gas(l1: L1Account, appends: Sequence[bytes], finalizes: Sequence[bytes]) -> RollupGas:
    """The gas used by each distinct transaction (one `finalize` may finalize several batches)."""

    def used(hashes: Sequence[bytes]) -> tuple[int, int]:
        unique = list(dict.fromkeys(hashes))
        gas = 0
        for tx_hash in unique:
            gas += int(l1.w3.eth.get_transaction_receipt(HexBytes(tx_hash))["gasUsed"])
        return gas, len(unique)

    append_gas, append_txs = used(appends)
    finalize_gas, finalize_txs = used(finalizes)
    return RollupGas(append_gas, append_txs, finalize_gas, finalize_txs)


def _watch_verifier(progress: Progress, url: str, last_batch: int, timeout: float) -> dict[str, Any]:
    """The verifier's status once it has checked every batch posted so far."""
    with step(progress, "verifier: every batch re-executed from L1") as bar:
        until = time.monotonic() + timeout
        while True:
            status = _verifier_status(url)
            latest = status.get("latest_checked") or {}
            checked = int(latest.get("index", -1))
            progress.update(bar, status=f"checked up to batch {checked}")
            if checked >= last_batch and status.get("caught_up"):
                return status
            if time.monotonic() > until:
                raise DemoError(f"the verifier checked up to batch {checked}, not {last_batch}")
            time.sleep(0.5)
