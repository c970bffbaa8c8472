"""The crash harness's loop: a stack, a bounded load, and one SIGKILL after another at chosen
points, each followed by a restart and `bench.crash.checks`.

The points, and how each is aimed (the roles' APIs and the timing of requests; no role is changed
for the harness):

- sequencer `executing`: a Train tx of a few hundred steps acknowledged, then the kill within the
  next block interval and its execution time, while the builder (its executor process) runs it;
- sequencer `acknowledging`: a burst of concurrent submissions, killed a few milliseconds in, so
  that some are stored and not yet answered (those unanswered are not acknowledged);
- sequencer and batcher `posting`: the moment a batch is sealed and L1 does not hold it yet;
- sequencer, batcher and verifier `dispute`: a fault drill armed (`MLROLLUP_UNSAFE_FAULT`, one kind
  a stack), killed once the verifier has opened the dispute of the wrong batch;
- verifier `judging`: at a random moment of the load, while it derives the batches;
- devnet `anytime`: the devnet keeps its chain in memory (`l1_contracts/devnet/`), so a killed
  devnet comes back as a new chain; the harness checks exactly that, that the sequencer still
  serves every acknowledged receipt and did not take the empty chain for the truth, then starts a
  new stack.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bench.crash.checks import GONE_GRACE_S, Checked, check_round, orphans, wait_settled
from bench.crash.traffic import Account, Ledger, Traffic, fund, new_accounts
from client.txs import train as train_tx
from client.txs import transfer as transfer_tx
from mlrollup.localstack import LocalStack, StackConfig, start_local_stack
from mlrollup.processes import Roles, alive, tree, wait_until

# Kinds of the fault drill that apply to any batch the load fills; each fires once a stack.
DRILLS = ("trace_last_leaf", "transfer_balance", "trace_short", "train_weights")
EXECUTING_EPOCHS = 40  # a Train tx of this many epochs over the model's points takes about a second
SETTLE_TIMEOUT_S = 240.0
CHALLENGE_WINDOW_S = 40

Point = tuple[str, str]  # (target, point)
CYCLE: tuple[Point, ...] = (
    ("sequencer", "acknowledging"),
    ("sequencer", "executing"),
    ("batcher", "posting"),
    ("verifier", "judging"),
    ("sequencer", "posting"),
    ("sequencer", "dispute"),
    ("sequencer", "acknowledging"),
    ("verifier", "dispute"),
    ("sequencer", "executing"),
    ("batcher", "dispute"),
    ("batcher", "posting"),
    ("verifier", "judging"),
)
# CI's short run: the two kills where losing or repeating something is likeliest.
QUICK: tuple[Point, ...] = (("sequencer", "acknowledging"), ("batcher", "posting"))
DEVNET_EVERY = 8  # one devnet kill in this many (each costs a new stack, which bounds the checks' work)


def plan(kills: int, quick: bool) -> list[Point]:
    """The kill points of a run, in order."""
    if quick:
        return list(QUICK[:kills])
    out: list[Point] = []
    while len(out) < kills:
        if len(out) % DEVNET_EVERY == DEVNET_EVERY - 1:
            out.append(("devnet", "anytime"))
        else:
            out.append(CYCLE[(len(out) - len(out) // DEVNET_EVERY) % len(CYCLE)])
    return out


@dataclass
class Kill:
    """One kill, what it hit, and what the checks found after the restart."""

    number: int
    target: str
    point: str
    aimed: str
    recovery_s: float
    checked: Checked


@dataclass
class Run:
    """A whole run: every kill, and the stacks it used."""

    kills: list[Kill] = field(default_factory=list)
    stacks: int = 0
    unanswered: int = 0
    down: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    acked: int = 0
    final_problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Session:
    """One stack with its accounts and load; a devnet kill ends it."""

    def __init__(self, root: Path, number: int, seed: int, accounts: int, log: Callable[[str], None]) -> None:
        self.directory = root / f"stack-{number}"
        tmpdir = self.directory / "tmp"
        tmpdir.mkdir(parents=True)
        self.roles = Roles(self.directory / "logs")
        self.log = log
        config = StackConfig(
            batch_age_s=1.0,
            block_interval_s=0.2,
            # Longer than a killed verifier takes to come back and challenge (7-12 s here): a
            # verifier down for the whole window misses the dispute, the protocol's liveness
            # assumption (an 8 s window lost one in the first 50-kill run).
            challenge_window_s=CHALLENGE_WINDOW_S,
            executor="process",
            batcher_apart=True,
            tmpdir=tmpdir,
            sequencer_extra={"MLROLLUP_LOG_LEVEL": "info"},
        )
        self.stack: LocalStack = start_local_stack(self.roles, self.directory, config)
        self.ledger = Ledger()
        self.accounts: list[Account] = new_accounts(self.stack.api_url, accounts, seed * 100 + number)
        fund(self.accounts, self.stack.l1_url)
        self.traffic = Traffic(self.accounts, self.ledger, seed, rate=8.0)
        self.traffic.start()
        self.rng = random.Random(seed)
        self.drills_left = list(DRILLS)

    def close(self) -> list[str]:
        """Stop the load and the stack; what a stopped stack left behind."""
        self.traffic.stop()
        for account in self.accounts:
            account.close()
        pids = [p for role in self.roles.started for p in tree(role.popen.pid)]
        self.stack.stop()
        problems = []
        # A stopped role's children (the executor, multiprocessing's resource tracker) exit after it:
        # the same grace as after a kill; one still running after it is left behind (and killed).
        left = alive(pids)
        _, gone_s = orphans(left)
        if gone_s >= GONE_GRACE_S:
            pids_left = [p.pid for p in left]
            problems.append(f"processes running {GONE_GRACE_S:g} s after the stack stopped: {pids_left}")
        return problems


def _sealed_not_posted(stack: LocalStack) -> int | None:
    page = httpx.get(stack.api_url + "/v1/batches", params={"status": "sealed"}, timeout=10).json()
    batches = page.get("batches") or []
    return int(batches[0]["id"]) if batches else None


def _open_dispute(stack: LocalStack) -> dict[str, object] | None:
    assert stack.verifier_url is not None
    page = httpx.get(stack.verifier_url + "/v1/disputes", params={"limit": 100}, timeout=10).json()
    for dispute in page["disputes"]:
        if dispute["outcome"] is None:
            return dict(dispute)
    return None


def _aim(session: Session, target: str, point: str) -> str:
    """Wait for the moment of `point` (and set it up); returns what it hit, for the table."""
    stack, rng = session.stack, session.rng
    if point == "executing":
        account = session.accounts[0]
        sent = account.submit("train", train_tx(account.model_id or 0, EXECUTING_EPOCHS), session.ledger)
        delay = rng.uniform(0.1, 1.2)
        time.sleep(delay)
        return f"Train {EXECUTING_EPOCHS} epochs acked {delay:.2f} s before" if sent else "Train refused"
    if point == "acknowledging":
        burst = [threading.Thread(target=_burst, args=(session, a), daemon=True) for a in session.accounts]
        for thread in burst:
            thread.start()
        delay = rng.uniform(0.005, 0.08)
        time.sleep(delay)
        return f"{len(burst)} senders' bursts, {delay * 1000:.0f} ms in"
    if point == "posting":
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sealed = _sealed_not_posted(stack)
            if sealed is not None:
                return f"batch {sealed} sealed, not yet on L1"
            time.sleep(0.02)
        return "no sealed batch seen in 60 s"
    if point == "dispute":
        kind = session.drills_left.pop(0)
        stack.role("sequencer").stop()
        fault = {"MLROLLUP_UNSAFE_FAULT": kind, "MLROLLUP_UNSAFE_FAULT_AT": "0"}
        stack.restart("sequencer", fault)
        wait_until("the armed sequencer", lambda: stack.ready("sequencer"))
        if kind == "train_weights":
            account = session.accounts[1]
            account.submit("train", train_tx(account.model_id or 0, 2), session.ledger)
        account = session.accounts[2]
        account.submit("transfer", transfer_tx(session.accounts[3].client.wallet.address, 7), session.ledger)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            dispute = _open_dispute(stack)
            if dispute is not None:
                time.sleep(rng.uniform(0.0, 1.0))
                return f"{kind} drill: batch {dispute['batch_index']}'s dispute {dispute['phase']}"
            time.sleep(0.1)
        return f"{kind} drill: no dispute opened in 120 s"
    time.sleep(rng.uniform(0.5, 3.0))
    return "under load"


def _burst(session: Session, account: Account) -> None:
    others = [a.client.wallet.address for a in session.accounts if a is not account]
    for _ in range(5):
        if account.submit("transfer", transfer_tx(random.choice(others), 3), session.ledger) is None:
            return


def _devnet_round(session: Session) -> tuple[str, list[str], Sequence[psutil.Process]]:
    """Kill the devnet and check what it promises: its chain was in memory, so it comes back new.
    The roles must not take the new chain for theirs: the sequencer keeps its state and every
    acknowledged receipt, and refuses new txs (its /readyz says why); the verifier is not ready."""
    stack = session.stack
    session.traffic.pause()
    wait_settled(stack, SETTLE_TIMEOUT_S)  # nothing pending: the state may not move by itself
    head = stack.w3.eth.block_number
    before = httpx.get(stack.api_url + "/v1/state/root", timeout=10).json()["current"]["root"]
    descendants = stack.role("devnet").kill()
    stack.restart("devnet")
    problems = []
    if stack.w3.eth.block_number >= head:
        problems.append("the restarted devnet kept its chain, which it does not promise")
    if stack.w3.eth.get_code(stack.rollup.address):
        problems.append("the Rollup's code survived the devnet, which keeps its chain in memory")
    # The new chain's blocks pass the ones the roles read last (evm_mine, a test method of the
    # devnet), so that they see it as a reorganised chain and not only a shorter one.
    for _ in range(head + 3 - stack.w3.eth.block_number):
        httpx.post(stack.l1_url, json={"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []})
    # The follower backs off (up to 30 s) while L1 is down: wait for its next polls.
    with contextlib.suppress(AssertionError):  # if it never does, the checks below say so
        wait_until("the sequencer to refuse the new chain", lambda: not stack.ready("sequencer"), 75)
    after = httpx.get(stack.api_url + "/v1/state/root", timeout=10).json()["current"]["root"]
    if after != before:
        problems.append("the sequencer changed its state to follow a chain without its Rollup")
    with httpx.Client(base_url=stack.api_url, timeout=30) as http:
        lost = [t for t in session.ledger.acked if http.get(f"/v1/txs/{t.hash}").json()["receipt"] is None]
        ready = http.get("/readyz")
    if lost:
        problems.append(f"{len(lost)} acknowledged receipts gone after the devnet restart")
    if ready.status_code == 200:
        problems.append("the sequencer says ready on a chain without its Rollup")
    assert stack.verifier_url is not None
    if httpx.get(stack.verifier_url + "/readyz", timeout=10).status_code == 200:
        problems.append("the verifier says ready on a chain without its Rollup")
    aimed = f"L1 head {head}; after: sequencer /readyz {ready.status_code}, state kept: {after == before}"
    return aimed, problems, descendants


def run(
    root: Path,
    kills: int,
    *,
    quick: bool,
    seed: int,
    accounts: int,
    log: Callable[[str], None],
    minutes: float = 0.0,
) -> Run:
    """Kill roles `kills` times at the points of `plan`, restarting and checking after each; with
    `minutes`, no kill starts after that long."""
    started = time.monotonic()
    out = Run()
    points = plan(kills, quick)
    deadline = started + minutes * 60 if minutes else None
    session = Session(root, 0, seed, accounts, log)
    out.stacks = 1
    totals = Ledger()
    try:
        for number, (target, point) in enumerate(points, 1):
            if deadline is not None and time.monotonic() > deadline:
                log(f"the {minutes:g} minutes are up: {number - 1} kills of {len(points)}")
                break
            if point == "dispute" and not session.drills_left:
                out.final_problems += _end(session, totals)
                session = Session(root, out.stacks, seed, accounts, log)
                out.stacks += 1
            session.traffic.resume()
            if target == "devnet":
                aimed, problems, descendants = _devnet_round(session)
                checked = Checked(acked=len(session.ledger.acked), problems=problems)
                recovery = 0.0
                log(f"kill {number}: devnet {aimed}; {len(problems)} problem(s)")
                out.kills.append(Kill(number, target, point, aimed, recovery, checked))
                out.final_problems += _end(session, totals)
                session = Session(root, out.stacks, seed, accounts, log)
                out.stacks += 1
                continue
            aimed = _aim(session, target, point)
            descendants = session.stack.role(target).kill()
            killed_at = time.monotonic()
            session.stack.restart(target)
            wait_settled_after(session)
            recovery = time.monotonic() - killed_at
            checked = check_round(session.stack, session.ledger, descendants)
            out.kills.append(Kill(number, target, point, aimed, recovery, checked))
            log(
                f"kill {number}: {target} {point} ({aimed}); back in {recovery:.1f} s; "
                f"{checked.acked} acked, {checked.batches} batches; {len(checked.problems)} problem(s)"
                + "".join(f"\n    {p}" for p in checked.problems[:5])
            )
    finally:
        out.final_problems += _end(session, totals)
    out.unanswered, out.down = totals.unanswered, totals.down
    out.refused, out.acked = dict(totals.refused), len(totals.acked)
    out.seconds = time.monotonic() - started
    return out


def wait_settled_after(session: Session) -> None:
    """Let the load run on a moment after the restart, then hold it and wait for a quiet stack."""
    time.sleep(session.rng.uniform(0.5, 1.5))
    session.traffic.pause()
    wait_settled(session.stack, SETTLE_TIMEOUT_S)


def _end(session: Session, totals: Ledger) -> list[str]:
    problems = session.close()
    totals.acked += session.ledger.acked
    totals.unanswered += session.ledger.unanswered
    totals.down += session.ledger.down
    totals.refused.update(session.ledger.refused)
    session.ledger.acked = []  # counted once, also when `_end` runs again in `finally`
    session.ledger.unanswered = session.ledger.down = 0
    session.ledger.refused.clear()
    if not problems:
        shutil.rmtree(session.directory / "tmp", ignore_errors=True)
    return problems
