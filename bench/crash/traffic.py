"""The bounded load the crash harness runs while it kills roles: funded accounts sending transfers,
data points and training through the SDK, each acknowledged tx recorded for the checks.

Every account is a `client.sdk.Client` of its own (nonces tracked by the SDK, resynced after a
refusal or a dropped connection). A submission the sequencer answered 202 is *acknowledged*: it must
survive any kill. One whose connection dropped (the sequencer killed while it was in flight) is
*unanswered*: it may or may not have been stored, and the checks ask nothing of it.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from client.errors import ClientError, TransportError
from client.l1 import L1Account
from client.ops import RetryPolicy
from client.sdk import Client
from client.txs import MakeTx
from client.txs import add_data as add_data_tx
from client.txs import train as train_tx
from client.txs import transfer as transfer_tx
from l1_contracts.devnet import dev_accounts
from protocol.params import FIXED_SCALE

ETH = 10**18
FUNDING = 100 * ETH  # each account's deposit: far more than any fee the load can pay
FUNDERS = range(2, 7)  # L1 dev accounts 2-6 (0 deploys, 1 proposes, 7 challenges)
POINTS = 16  # data points each account's shared model starts with


@dataclass(frozen=True, slots=True)
class Acked:
    """A tx the sequencer acknowledged (202)."""

    hash: str
    kind: str
    sender: str
    nonce: int
    at: float


@dataclass
class Ledger:
    """Everything the load sent, shared by its threads."""

    acked: list[Acked] = field(default_factory=list)
    unanswered: int = 0  # sent, and the connection dropped before an answer
    down: int = 0  # not sent: the connection was refused (the role was down)
    refused: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, kind: str, sender: str, nonce: int, tx_hash: str) -> None:
        with self.lock:
            self.acked.append(Acked(tx_hash, kind, sender, nonce, time.time()))


class Account:
    """A funded L2 account with a shared model of its own, for Train and AddData txs."""

    def __init__(self, url: str, seed: int) -> None:
        self.key = "0x" + random.Random(seed).randbytes(32).hex()
        # Retries of 503 (catching up after a restart) are the load's job: it backs off itself.
        self.client = Client(url, self.key, timeout=15, retry=RetryPolicy(max_retries=0))
        self.model_id: int | None = None
        self.lock = threading.Lock()  # one submission at a time: the SDK's nonces need it

    def submit(self, kind: str, make: MakeTx, ledger: Ledger) -> str | None:
        """Submit one tx; record it. Returns its hash when acknowledged."""
        with self.lock:
            try:
                accepted = self.client.submit(make)
            except TransportError as exc:
                with ledger.lock:
                    # A refused connection sent nothing (the sequencer is down); any other transport
                    # failure may have been stored without an answer.
                    if "ConnectError" in exc.message:
                        ledger.down += 1
                    else:
                        ledger.unanswered += 1
                return None
            except ClientError as exc:
                with ledger.lock:
                    ledger.refused[exc.code] += 1
                return None
        ledger.ack(kind, accepted.sender, accepted.nonce, accepted.hash)
        return accepted.hash

    def close(self) -> None:
        self.client.close()


def model_data(points: int) -> tuple[list[list[int]], list[int]]:
    """A line y = 2x + 1 in fixed point, for a shared model of one feature."""
    xs = [[i * FIXED_SCALE // points] for i in range(points)]
    ys = [2 * x[0] + FIXED_SCALE for x in xs]
    return xs, ys


def fund(accounts: list[Account], l1_url: str, timeout: float = 120.0) -> None:
    """Deposit `FUNDING` to every account on L1 and wait until L2 credits it; then give each its model."""
    dev = dev_accounts()
    domain = accounts[0].client.domain()
    funders = [L1Account(l1_url, dev[i].private_key, domain) for i in FUNDERS]
    for i, account in enumerate(accounts):
        funders[i % len(funders)].deposit(FUNDING, account.client.wallet.address)
    for account in accounts:
        account.client.wait_for_balance(FUNDING, timeout=timeout)
    xs, ys = model_data(POINTS)
    created = [account.client.create_model(1, FIXED_SCALE // 100, [0, 0]) for account in accounts]
    for account, sent in zip(accounts, created, strict=True):
        account.model_id = account.client.wait_for_receipt(sent.hash, timeout=timeout).created_id
        account.client.wait_for_receipt(account.client.add_data(account.model_id or 0, xs, ys).hash)


class Traffic:
    """Background senders over `accounts`, at most `rate` txs a second in all, until `stop`; `pause`
    holds them (the checks need a quiet sequencer)."""

    def __init__(self, accounts: list[Account], ledger: Ledger, seed: int, rate: float = 20.0) -> None:
        self.accounts = accounts
        self.ledger = ledger
        self.rng = random.Random(seed)
        self.period = len(accounts) / rate
        self.running = threading.Event()
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._run, args=(a,), daemon=True, name=f"load-{i}")
            for i, a in enumerate(accounts)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def resume(self) -> None:
        self.running.set()

    def pause(self) -> None:
        """Hold the senders; returns once none is mid-submission."""
        self.running.clear()
        for account in self.accounts:
            with account.lock:
                pass

    def stop(self) -> None:
        self.stopping.set()
        self.running.set()
        for thread in self.threads:
            thread.join(30)

    def _run(self, account: Account) -> None:
        others = [a.client.wallet.address for a in self.accounts if a is not account]
        with self.ledger.lock:
            rng = random.Random(self.rng.random())
        while not self.stopping.is_set():
            if not self.running.wait(0.5):
                continue
            roll = rng.random()
            if roll < 0.85:
                self._sent(account, "transfer", transfer_tx(rng.choice(others), 1 + rng.randrange(1000)))
            elif roll < 0.95:
                xs, ys = model_data(2)
                self._sent(account, "add_data", add_data_tx(account.model_id or 0, xs, ys))
            else:
                self._sent(account, "train", train_tx(account.model_id or 0, 1))
            time.sleep(self.period * rng.uniform(0.5, 1.5))

    def _sent(self, account: Account, kind: str, make: MakeTx) -> None:
        if account.submit(kind, make, self.ledger) is None:
            time.sleep(0.5)  # down or catching up: the harness restarts it; try again soon


def new_accounts(url: str, count: int, seed: int) -> list[Account]:
    """`count` fresh accounts (keys drawn from `seed`, so a run can be repeated)."""
    return [Account(url, seed * 1_000 + i) for i in range(count)]
