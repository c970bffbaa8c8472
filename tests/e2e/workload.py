"""The L2 workloads of the end-to-end tests, sent over HTTP like a user would, and the outcome each
must reach: the same in an honest run and after any fault drill (a fault that was proven and rolled
back leaves no trace in what users see)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from protocol import params
from protocol.hashing import keccak
from protocol.models import Arch, ModelSpec, validate_spec
from protocol.paper import PAPER_X, PAPER_Y
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, reveal_tx, root_of_test_set
from protocol.txrules import model_commitment
from protocol.txs import (
    AddData,
    CommitModel,
    CreateModel,
    CreateTask,
    FinalizeTask,
    RevealModel,
    Train,
    Transfer,
    Tx,
    Withdraw,
)
from tests.e2e.stack import L2
from tests.support.fees import FEE_PRICE
from tests.support.wallets import ETH, Wallet

S = params.FIXED_SCALE
PAPER_WEIGHTS_AFTER_ONE_EPOCH = [100262000, 3420000]


@dataclass
class Users:
    """Four funded L2 users: a submitter, two miners and a trainer."""

    submitter: Wallet
    miner_a: Wallet
    miner_b: Wallet
    trainer: Wallet

    @classmethod
    def make(cls, seed: int = 100) -> Users:
        return cls(*(Wallet.from_seed(seed + i) for i in range(4)))

    @property
    def all(self) -> list[Wallet]:
        return [self.submitter, self.miner_a, self.miner_b, self.trainer]


@dataclass
class Run:
    """Sends txs and remembers every acknowledged one (none may be lost)."""

    l2: L2
    batch_age_s: float
    acknowledged: list[str] = field(default_factory=list)
    senders: dict[str, bytes] = field(default_factory=dict)  # tx hash -> its sender

    def send(self, wallet: Wallet, make: Callable[[int], Tx]) -> str:
        tx_hash = self.l2.send(wallet, make)
        self.acknowledged.append(tx_hash)
        self.senders[tx_hash] = wallet.address
        return tx_hash

    def fees_paid(self, wallet: Wallet) -> int:
        """Wei of fees `wallet`'s acknowledged txs paid, from their receipts."""
        hashes = [h for h, sender in self.senders.items() if sender == wallet.address]
        return sum(int(self.l2.receipt(h)["fee"]) for h in hashes)

    def done(self, wallet: Wallet, make: Callable[[int], Tx], timeout: float = 120.0) -> dict[str, Any]:
        """Send and wait for a successful receipt."""
        return self.l2.receipt(self.send(wallet, make), timeout=timeout)

    def wait_for_batch_time(self, after: int) -> None:
        """Sleep until txs accepted now execute at a batch timestamp past `after`."""
        time.sleep(max(0.0, after + 1 + self.batch_age_s - time.time()))

    def batch_time_past(self, after: int, ahead: float = 0.0) -> bool:
        """Whether txs accepted `ahead` seconds from now execute at a batch timestamp past `after`
        (`wait_for_batch_time` would not sleep then)."""
        return time.time() + ahead >= after + 1 + self.batch_age_s

    def balance(self, wallet: Wallet) -> int:
        return int(self.l2.get(f"/v1/accounts/0x{wallet.address.hex()}")["balance"])


def transfers(run: Run, users: Users, rounds: int = 1, first: int = 0) -> None:
    """Each user pays the next one `1 + round` wei, `rounds` times, the rounds counted from `first`."""
    people = users.all
    for r in range(first, first + rounds):
        hashes = [
            run.send(
                u,
                lambda n, to=people[(i + 1) % 4], r=r: Transfer(  # type: ignore[misc]
                    n, to.address, 1 + r, max_fee_price=FEE_PRICE
                ),
            )
            for i, u in enumerate(people)
        ]
        for h in hashes:
            run.l2.receipt(h)


@dataclass(frozen=True)
class CompetitionOutcome:
    task_id: int
    winner: bytes
    reward: int


@dataclass(frozen=True)
class OpenCompetition:
    """A competition round whose commitments are in: `reveal_competition` and `finalize_competition`
    take it on once each deadline has passed (the caller may send other txs meanwhile)."""

    users: Users
    task_id: int
    spec: ModelSpec
    features: IntTensor
    labels: IntTensor
    salt: bytes
    weights: dict[bytes, list[int]]
    salts: dict[bytes, bytes]
    commit_deadline: int
    reveal_deadline: int


def competition(run: Run, users: Users, samples: int = 150, deadline_s: int = 10) -> CompetitionOutcome:
    """A whole LINREG(d=2) round on y = x0 + x1: miner_a exact, miner_b off by S/2; miner_a wins
    2 ETH. Scoring takes ceil(samples / 64) chunks a reveal."""
    round_ = open_competition(run, users, samples, deadline_s)
    reveal_competition(run, round_)
    return finalize_competition(run, round_)


def open_competition(run: Run, users: Users, samples: int = 150, deadline_s: int = 10) -> OpenCompetition:
    """The round's task (commit deadline in `deadline_s` seconds, reveal deadline `deadline_s + 2`
    after it) and both miners' commitments."""
    spec = validate_spec(Arch.LINREG, 2, 0, 0)
    rows = [[i * S, (i % 3) * S] for i in range(samples)]
    features, labels = IntTensor.matrix(rows), IntTensor.vector([r[0] + r[1] for r in rows])
    salt = keccak(b"test set salt")
    test_commitment = commitment_to_test_set(root_of_test_set(spec, features, labels), samples, salt)
    now = int(time.time())
    commit_deadline, reveal_deadline = now + deadline_s, now + 2 * deadline_s + 2
    task_id = run.done(
        users.submitter,
        lambda n: CreateTask(
            n,
            Arch.LINREG,
            2,
            0,
            0,
            2 * ETH,
            commit_deadline,
            reveal_deadline,
            test_commitment,
            keccak(b"d"),
            max_fee_price=FEE_PRICE,
        ),
    )["created_id"]
    weights = {users.miner_a.address: [S, S, 0], users.miner_b.address: [S, S, S // 2]}
    salts = {}
    for miner in (users.miner_a, users.miner_b):
        salts[miner.address] = keccak(miner.address)
        digest = weights_hash(weights[miner.address])
        c = model_commitment(task_id, miner.address, digest, salts[miner.address])
        run.done(miner, lambda n, c=c: CommitModel(n, task_id, c, max_fee_price=FEE_PRICE))  # type: ignore[misc]
    return OpenCompetition(
        users, task_id, spec, features, labels, salt, weights, salts, commit_deadline, reveal_deadline
    )


def reveal_competition(run: Run, round_: OpenCompetition) -> None:
    """Once the commit deadline has passed: the test set's reveal, then both miners' models."""
    users, task_id = round_.users, round_.task_id
    run.wait_for_batch_time(round_.commit_deadline)
    run.done(
        users.submitter,
        lambda n: reveal_tx(
            round_.spec, task_id, round_.salt, round_.features, round_.labels, n, max_fee_price=FEE_PRICE
        ),
    )
    for miner in (users.miner_a, users.miner_b):
        w, s = IntTensor.vector(round_.weights[miner.address]), round_.salts[miner.address]
        run.done(miner, lambda n, w=w, s=s: RevealModel(n, task_id, s, w, max_fee_price=FEE_PRICE))  # type: ignore[misc]


def finalize_competition(run: Run, round_: OpenCompetition) -> CompetitionOutcome:
    """Once the reveal deadline has passed: FinalizeTask; the outcome `check_competition` expects."""
    users = round_.users
    run.wait_for_batch_time(round_.reveal_deadline)
    run.done(users.trainer, lambda n: FinalizeTask(n, round_.task_id, max_fee_price=FEE_PRICE))
    return CompetitionOutcome(round_.task_id, users.miner_a.address, 2 * ETH)


def check_competition(run: Run, outcome: CompetitionOutcome) -> None:
    task = run.l2.get(f"/v1/tasks/{outcome.task_id}")
    assert task["finalized"], task
    assert task["best"]["miner"].lower() == "0x" + outcome.winner.hex(), task


def shared_model(run: Run, users: Users, epochs: int = 1) -> int:
    """The paper's regression: create, add its nine points, train `epochs` epochs; returns its id."""
    model_id = int(
        run.done(
            users.trainer,
            lambda n: CreateModel(
                n, 1, 1000, IntTensor.vector([10 * 10**7, 2 * 10**7]), max_fee_price=FEE_PRICE
            ),
        )["created_id"]
    )
    xs, ys = IntTensor.matrix([[x] for x in PAPER_X]), IntTensor.vector(PAPER_Y)
    run.done(users.trainer, lambda n: AddData(n, model_id, xs, ys, max_fee_price=FEE_PRICE))
    run.done(users.trainer, lambda n: Train(n, model_id, epochs, max_fee_price=FEE_PRICE))
    return model_id


def check_paper_model(run: Run, model_id: int) -> None:
    assert run.l2.get(f"/v1/models/{model_id}")["weights"] == PAPER_WEIGHTS_AFTER_ONE_EPOCH


def withdrawal(run: Run, wallet: Wallet, l1_recipient: str, amount: int = ETH) -> int:
    """Withdraw `amount` to `l1_recipient`; returns the withdrawal id."""
    receipt = run.done(
        wallet, lambda n: Withdraw(n, bytes.fromhex(l1_recipient[2:]), amount, max_fee_price=FEE_PRICE)
    )
    return int(receipt["created_id"])


def check_all_executed(run: Run) -> None:
    """Every acknowledged tx has a successful receipt (none lost, none failed)."""
    for tx_hash in run.acknowledged:
        got = run.l2.get(f"/v1/txs/{tx_hash}")
        assert got["status"] == "executed" and got["receipt"]["success"], got
