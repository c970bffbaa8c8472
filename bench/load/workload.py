"""What each of the load's senders does: rounds that use every tx type, through the SDK's
`AsyncClient`, with transfers and withdrawals filling the waits for a task's deadlines.

A round of one sender (its own account, its own client):

    AddData, Train                      on its shared model (CreateModel once, before the first round)
    CreateTask, CommitModel             a LINREG task on a small hidden test set, its own commitment
    Transfer/Withdraw … until the commit deadline is past the batch time
    RevealTestSet…, RevealModel         the test set revealed and the model scored (heavy)
    Transfer/Withdraw … until the reveal deadline is past
    FinalizeTask

Every submission takes one unit of the shared budget first, so the load stops by itself at the
budget (or at its deadline, whichever comes first). Each is timed to its acceptance; the time to its
receipt comes from the block that holds it (`bench.load.stats.BlockFollower`).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from client import miner, models
from client.errors import ClientError, TransportError, TxFailed
from client.sdk import AsyncClient
from client.txs import reveal_test_set
from protocol.models import Arch, validate_spec
from protocol.params import FIXED_SCALE

S = FIXED_SCALE
Accepted = models.TxAccepted | list[models.TxAccepted]
SPEC = validate_spec(Arch.LINREG, 2, 0, 0)
TEST_SAMPLES = 64
MODEL_POINTS = 8


@dataclass(frozen=True, slots=True)
class Windows:
    """A task's windows and how far batch time lags the clock (the stack's batch max age)."""

    commit_s: float
    reveal_s: float
    batch_lag_s: float
    filler_pause_s: float = 0.0  # between two fillers of one sender (a short run needs few of them)


@dataclass
class Sent:
    """One acknowledged submission: when it was sent and accepted."""

    hash: str
    kind: str
    sent_at: float  # wall clock, as the server's block timestamps of `created_at`
    accepted_s: float


@dataclass
class Budget:
    """How many submissions are left, and until when."""

    left: int
    deadline: float  # monotonic

    def take(self, n: int = 1) -> bool:
        if self.left < n or time.monotonic() > self.deadline:
            return False
        self.left -= n
        return True


@dataclass
class Tally:
    """What all senders did: acknowledged txs, refusals and failures by code."""

    sent: list[Sent] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


def test_set(seed: int) -> tuple[list[list[int]], list[int]]:
    """A hidden test set for y = x0 + x1 (fixed point)."""
    rng = random.Random(seed)
    xs = [[rng.randrange(4) * S, rng.randrange(4) * S] for _ in range(TEST_SAMPLES)]
    return xs, [x[0] + x[1] for x in xs]


class Sender:
    """One account's rounds (see the module docstring)."""

    def __init__(
        self, client: AsyncClient, budget: Budget, tally: Tally, windows: Windows, peers: list[str], seed: int
    ) -> None:
        self.client = client
        self.budget = budget
        self.tally = tally
        self.windows = windows
        self.peers = peers
        self.rng = random.Random(seed)
        self.model_id: int | None = None

    async def _send(self, kind: str, call: Callable[[], Awaitable[Accepted]], count: int = 1) -> list[str]:
        """One submission (`count` txs for a list) timed to its acceptance; [] when refused."""
        if not self.budget.take(count):
            raise StopAsyncIteration
        sent_at, started = time.time(), time.perf_counter()
        try:
            answer = await call()
        except TransportError:
            self.tally.errors["transport"] += count
            return []
        except ClientError as exc:
            self.tally.errors[exc.code] += count
            return []
        accepted_s = time.perf_counter() - started
        accepted = answer if isinstance(answer, list) else [answer]
        hashes = [str(a.hash) for a in accepted]
        self.tally.sent += [Sent(h, kind, sent_at, accepted_s) for h in hashes]
        return hashes

    async def _receipt(self, tx_hash: str) -> int | None:
        """The created id of a tx this round needs (a task, a model); None if it failed."""
        try:
            receipt = await self.client.wait_for_receipt(tx_hash, timeout=300)
        except TxFailed as exc:
            self.tally.errors[f"failed:{exc.code}"] += 1
            return None
        except ClientError as exc:
            self.tally.errors[exc.code] += 1
            return None
        return receipt.created_id

    async def _fill_until(self, deadline: float) -> None:
        """Transfers (and one withdrawal in twenty) until batch time is past `deadline`."""
        while time.time() <= deadline + self.windows.batch_lag_s + 0.5:
            if self.rng.random() < 0.05:
                await self._send("Withdraw", lambda: self.client.withdraw(1))
            else:
                to, amount = self.rng.choice(self.peers), 1 + self.rng.randrange(100)
                await self._send("Transfer", partial(self.client.transfer, to, amount))
            if self.windows.filler_pause_s:
                await asyncio.sleep(self.windows.filler_pause_s)

    async def run(self) -> None:
        """Rounds until the budget or the deadline runs out."""
        try:
            sent = await self._send("CreateModel", lambda: self.client.create_model(1, S // 100, [0, 0]))
            self.model_id = await self._receipt(sent[0]) if sent else None
            round_ = 0
            while True:
                await self._round(round_)
                round_ += 1
        except StopAsyncIteration:
            return

    async def _round(self, round_: int) -> None:
        client, w = self.client, self.windows
        if self.model_id is not None:
            xs = [[self.rng.randrange(10) * S // 10] for _ in range(MODEL_POINTS)]
            ys = [2 * x[0] + S for x in xs]
            model = self.model_id
            await self._send("AddData", lambda: client.add_data(model, xs, ys))
            await self._send("Train", lambda: client.train(model, 1 + self.rng.randrange(3)))
        features, labels = test_set(self.rng.randrange(2**32))
        salt, model_salt = miner.new_salt(), miner.new_salt()
        commitment = miner.test_set_commitment(SPEC, features, labels, salt)
        now = time.time()
        commit_deadline = int(now + w.batch_lag_s + w.commit_s)
        reveal_deadline = int(commit_deadline + w.batch_lag_s + w.reveal_s)
        sent = await self._send(
            "CreateTask",
            lambda: client.create_task(SPEC, 10**15, commit_deadline, reveal_deadline, commitment),
        )
        task_id = await self._receipt(sent[0]) if sent else None
        if task_id is None:
            await self._fill_until(time.time())
            return
        weights = [S, S, self.rng.randrange(S // 4)]
        own = miner.commitment(task_id, client.address, weights, model_salt)
        await self._send("CommitModel", lambda: client.commit_model(task_id, own))
        await self._fill_until(commit_deadline)
        reveals = len(reveal_test_set(SPEC, task_id, salt, features, labels))
        await self._send(
            "RevealTestSet", lambda: client.reveal_test_set(task_id, salt, features, labels), reveals
        )
        await self._send("RevealModel", lambda: client.reveal_model(task_id, model_salt, weights))
        await self._fill_until(reveal_deadline)
        await self._send("FinalizeTask", lambda: client.finalize_task(task_id))


async def run_senders(senders: list[Sender]) -> None:
    """All senders at once (the concurrency is their number)."""
    await asyncio.gather(*(s.run() for s in senders))
