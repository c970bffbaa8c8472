"""What the crash harness checks after each kill and restart, once the stack is quiet again.

- every acknowledged tx has a successful receipt and is in a batch L1 holds (its hash among the txs
  of the live batches' calldata): nothing acknowledged is lost;
- the sequencer's state root and every batch's post root equal a replay from L1 data alone
  (`mlrollup.replay`), and the appends neither skip an index nor post a batch twice;
- the verifier caught up and agrees: the batches it judged wrong are exactly those L1 deleted by a
  won challenge (the fault drills'), and no batch was challenged more often than it was appended;
- the killed process left no descendant running (an executor process) and the roles left no file in
  their temporary directory or unexpected file beside their databases.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.crash.traffic import Ledger
from l1_contracts.bindings.rollup import Resolution
from mlrollup.localstack import LocalStack
from mlrollup.processes import alive, wait_until
from mlrollup.replay import AppendHistory, ReplayError, check_appends, derive_from_l1
from protocol.codec import decode_batch
from protocol.hashing import keccak

# What a running or stopped stack may keep in its directory (SQLite's WAL files included).
EXPECTED = re.compile(r"^(sequencer|verifier)\.db(-wal|-shm|-journal)?$|^(deployments|logs|tmp)$")
GONE_GRACE_S = 15.0  # how long the descendants of a killed process may take to notice and exit


class CrashCheckError(Exception):
    """The stack did not come back to a state the checks can read (it never settled)."""


@dataclass
class Checked:
    """One round of checks: the figures and every problem found (none, when all held)."""

    acked: int = 0
    batches: int = 0
    appends: AppendHistory | None = None
    descendants: int = 0  # the killed process's children and their children, just before the kill
    orphans: int = 0  # of those, still running right after it
    orphans_gone_s: float = 0.0
    frauds: int = 0  # wrong batches (the fault drills') proven on L1 so far
    problems: list[str] = field(default_factory=list)


def _get(url: str, path: str, **params: Any) -> Any:
    r = httpx.get(url + path, params=params, timeout=30)
    r.raise_for_status()
    return r.json()


def settled(stack: LocalStack) -> bool:
    """Nothing pending, no open batch, L1 holds every sealed batch, and the verifier judged them."""
    ready = httpx.get(stack.api_url + "/readyz", timeout=10)
    if ready.status_code != 200 or ready.json().get("mempool"):
        return False
    root = _get(stack.api_url, "/v1/state/root")
    sealed = root["sealed"]
    if sealed is None or sealed["root"] != root["current"]["root"]:
        return False
    if stack.rollup.batch_count() != sealed["batch"] + 1:
        return False
    if stack.verifier_url is not None:
        status = _get(stack.verifier_url, "/v1/status")
        latest = status["latest_checked"]
        if not status["caught_up"] or latest is None or latest["index"] != status["batch_count"] - 1:
            return False
        if status["disputes"].get("open"):
            return False
    return True


def wait_settled(stack: LocalStack, timeout: float) -> None:
    """`settled`, within `timeout` seconds; `CrashCheckError` with the logs' tails otherwise."""
    try:
        wait_until("the stack to settle (all posted, verifier caught up)", lambda: settled(stack), timeout)
    except AssertionError as exc:
        raise CrashCheckError(f"{exc}\n{stack.logs(3000)}") from exc


def orphans(descendants: Sequence[psutil.Process], grace_s: float = GONE_GRACE_S) -> tuple[int, float]:
    """How many of a killed process's descendants were still running, and how long until all were
    gone; any still running after `grace_s` is killed (it is ours) and counted."""
    started = time.monotonic()
    running = alive(descendants)
    count = len(running)
    while running and time.monotonic() - started < grace_s:
        time.sleep(0.1)
        running = alive(running)
    for proc in running:
        proc.kill()
    psutil.wait_procs(running, timeout=10)
    return count, time.monotonic() - started


def check_round(stack: LocalStack, ledger: Ledger, descendants: Sequence[psutil.Process]) -> Checked:
    """Every check of the module docstring."""
    out = Checked(descendants=len(descendants))
    out.orphans, out.orphans_gone_s = orphans(descendants)
    if out.orphans_gone_s >= GONE_GRACE_S:
        out.problems.append(f"{out.orphans} descendant process(es) of the killed role outlived it")
    try:
        derived = derive_from_l1(stack.rollup, stack.bridge, stack.domain, stack.from_block)
    except ReplayError as exc:  # a wrong batch left on L1 (a dispute missed): a finding, not a crash
        out.problems.append(str(exc))
        return out
    out.batches = len(derived)
    on_l1: set[str] = set()
    for d in derived:
        _header, raws = decode_batch(d.batch.data)
        on_l1.update("0x" + keccak(raw).hex() for raw in raws)
    with ledger.lock:
        acked = list(ledger.acked)
    out.acked = len(acked)
    with httpx.Client(base_url=stack.api_url, timeout=30) as http:
        for tx in acked:
            body = http.get(f"/v1/txs/{tx.hash}").json()
            receipt = body.get("receipt")
            if receipt is None:
                out.problems.append(f"acknowledged {tx.kind} {tx.hash} has no receipt")
            elif not receipt["success"]:
                out.problems.append(f"acknowledged {tx.kind} {tx.hash} failed: {receipt['reason']}")
            if tx.hash.lower() not in on_l1:
                out.problems.append(f"acknowledged {tx.kind} {tx.hash} is in no batch L1 holds")
        current = http.get("/v1/state/root").json()["current"]["root"]
        if derived and current != "0x" + derived[-1].batch.post_root.hex():
            out.problems.append("the sequencer's state root is not the replay of L1's batches")
        for d in derived:
            batch = http.get(f"/v1/batches/{d.batch.index}").json()
            if batch.get("post_root") != "0x" + d.batch.post_root.hex():
                out.problems.append(f"batch {d.batch.index}'s post root differs from L1's")
    try:
        out.appends = check_appends(stack.rollup, stack.from_block)
    except AssertionError as exc:
        out.problems.append(str(exc))
    challenged = Counter(c.index for c in stack.rollup.challenges_opened(stack.from_block))
    appended = Counter(a.index for a in stack.rollup.batches_appended(stack.from_block))
    for index, times in challenged.items():
        if times > appended[index]:
            out.problems.append(f"batch {index} was challenged {times} times in {appended[index]} appends")
    # Every wrong batch (a fault drill posted) must be one the verifier judged wrong and L1 deleted
    # by a won challenge; nothing else may be judged wrong.
    won = [
        r
        for r in stack.rollup.challenges_resolved(stack.from_block)
        if r.resolution in (Resolution.FRAUD_PROVEN, Resolution.BAD_LAST_STEP, Resolution.REVEAL_TIMEOUT)
    ]
    out.frauds = len(won)
    if stack.verifier_url is not None:
        status = _get(stack.verifier_url, "/v1/status")
        if status["disagreements"] != len(won):
            out.problems.append(
                f"the verifier judged {status['disagreements']} batches wrong, L1 proved {len(won)} wrong"
            )
        if status["halted"]:
            out.problems.append(f"the verifier halted: {status['halted']}")
    out.problems += leftover_files(Path(stack.directory), stack.config.tmpdir)
    return out


def leftover_files(directory: Path, tmpdir: Path | None) -> list[str]:
    """Files the roles left in their TMPDIR, or in the stack's `directory` beside their databases,
    that no role should keep."""
    problems = []
    if tmpdir is not None and tmpdir.exists():
        left = sorted(p.name for p in tmpdir.iterdir())
        if left:
            problems.append(f"files left in the roles' TMPDIR: {left[:5]}")
    unexpected = sorted(p.name for p in directory.iterdir() if not EXPECTED.match(p.name))
    if unexpected:
        problems.append(f"unexpected files beside the databases: {unexpected[:5]}")
    return problems
