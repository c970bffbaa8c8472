"""Where the block builder runs `apply_batch`: in the calling thread, or in a worker process.

Python runs one thread at a time, so a block executed on a thread of the service takes its CPU
from admission and the API. `ProcessExecutor` runs it in a child process that keeps its own replica
of the state: the builder sends the block's inputs, the child executes them with `apply_batch` on
the state whose root the builder names, and returns the receipts, the step trace and the changed
leaves; the builder applies those to its own state and checks that the roots agree. The child keeps
the last few states by root, so a block whose database write failed is simply executed again.
`InlineExecutor` does the same in the calling thread (tests, tools).

With `max_steps`, a block keeps its deposits and the txs whose steps fit: the result is cut after
the last tx that fits (`first_txs`), which is what executing only those inputs gives, so no tx is
executed twice for one block.

The worker process dies with the sequencer (`service.lifeline`): on Linux the kernel kills it when
its parent exits, elsewhere a thread of its own ends it when the parent is gone. It arms that only
once it has imported the protocol (seconds), so `ProcessExecutor` waits for its "ready" before using
it (and `BlockBuilder.start` before the service is ready).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from typing import Any, Protocol

from protocol.deposits import Deposit
from protocol.fees import FeeSchedule
from protocol.hashing import merkle_root
from protocol.jobs import job_hash
from protocol.receipts import Receipt
from protocol.signing import Domain
from protocol.state import State
from protocol.transition import BatchContext, BatchResult, StepKind, apply_batch
from sequencer.core.errors import SequencerError
from service.lifeline import die_with_parent

log = logging.getLogger("sequencer.executor")

STATES_KEPT = 4
START_TIMEOUT_S = 120.0  # the child imports torch and the protocol: seconds on a loaded machine


@dataclass(frozen=True, slots=True)
class StepInfo:
    """One step of a block's trace: its kind, the state root after it, the block-local cursor and
    the pending job's hash."""

    kind: StepKind
    state_root: bytes
    cursor: int
    job_hash: bytes


@dataclass(frozen=True, slots=True)
class ExecutedBlock:
    """What executing a block produced."""

    post_state: State
    trace_root: bytes
    steps: tuple[StepInfo, ...]
    receipts: tuple[Receipt, ...]
    changes: tuple[tuple[bytes, bytes], ...]  # leaves whose value the block changed
    seconds: float  # time inside apply_batch


class Executor(Protocol):
    """Executes a block's inputs on a state with `apply_batch`; with `max_steps`, only the deposits
    and the txs whose steps fit (a prefix: the receipts say how many)."""

    def execute(
        self,
        head: State,
        deposits: Sequence[Deposit],
        txs: Sequence[bytes],
        ctx: BatchContext,
        max_steps: int | None = None,
    ) -> ExecutedBlock: ...

    def close(self) -> None: ...


def first_txs(result: BatchResult, count: int) -> BatchResult:
    """`result` cut after its deposits and first `count` txs: exactly what `apply_batch` gives those
    inputs alone (a step never depends on the inputs after it), at no cost (states are persistent)."""
    if count >= len(result.txs):
        return result
    steps = result.steps[: result.receipts[count].first_step]
    return replace(
        result,
        post_state=steps[-1].state if steps else result.pre_state,
        txs=result.txs[:count],
        receipts=result.receipts[:count],
        steps=steps,
        trace_root=merkle_root([s.hash for s in steps]),
    )


def fitting(result: BatchResult, max_steps: int | None) -> BatchResult:
    """`result` cut to the txs whose steps fit in `max_steps` (all of them when None)."""
    if max_steps is None or len(result.steps) <= max_steps:
        return result
    return first_txs(result, sum(1 for r in result.receipts if r.last_step < max_steps))


def _run(
    head: State, deposits: Sequence[Deposit], txs: Sequence[bytes], ctx: BatchContext, max_steps: int | None
) -> tuple[State, bytes, tuple[StepInfo, ...], tuple[Receipt, ...], tuple[tuple[bytes, bytes], ...], float]:
    started = time.perf_counter()
    result = fitting(apply_batch(head, deposits, txs, ctx), max_steps)
    block = executed_block(head, result, time.perf_counter() - started)
    return block.post_state, block.trace_root, block.steps, block.receipts, block.changes, block.seconds


def executed_block(head: State, result: BatchResult, seconds: float) -> ExecutedBlock:
    """What a block's execution returns to the builder: `result` on `head`, in `seconds`."""
    steps = tuple(
        StepInfo(s.kind, s.state_root, s.machine.cursor, job_hash(s.machine.job)) for s in result.steps
    )
    changes = tuple(result.post_state.tree.changes_since(head.tree))
    return ExecutedBlock(result.post_state, result.trace_root, steps, result.receipts, changes, seconds)


class InlineExecutor:
    """Executes in the calling thread."""

    def execute(
        self,
        head: State,
        deposits: Sequence[Deposit],
        txs: Sequence[bytes],
        ctx: BatchContext,
        max_steps: int | None = None,
    ) -> ExecutedBlock:
        return ExecutedBlock(*_run(head, deposits, txs, ctx, max_steps))

    def close(self) -> None:
        pass


# --- the worker process ------------------------------------------------------------------------------


def _worker(conn: Connection) -> None:  # pragma: no cover - runs in the child process
    """Serve `("exec", root, deposits, txs, chain_id, contract, ts, max_steps)` and `("load", leaves)`."""
    die_with_parent()
    conn.send(("ready",))  # the lifeline is armed: from now on this process ends with its parent
    states: OrderedDict[bytes, State] = OrderedDict()
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        kind = message[0]
        if kind == "load":
            state = State.from_leaves(message[1])
            states[state.root] = state
            conn.send(("ok", state.root))
            continue
        if kind == "stop":
            return
        _, root, deposits, txs, chain_id, contract, fee_price, fee_recipient, ts, max_steps = message
        head = states.get(root)
        if head is None:
            conn.send(("missing", root))
            continue
        try:
            post, trace_root, steps, receipts, changes, seconds = _run(
                head,
                deposits,
                txs,
                BatchContext(Domain(chain_id, contract), FeeSchedule(fee_price, fee_recipient), ts),
                max_steps,
            )
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
            continue
        states[post.root] = post
        states.move_to_end(post.root)
        while len(states) > STATES_KEPT:
            states.popitem(last=False)
        conn.send(("done", post.root, trace_root, steps, receipts, changes, seconds))


class ProcessExecutor:
    """Executes in a child process (started on first use, restarted if it dies)."""

    def __init__(self) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._conn: Connection | None = None
        self._proc: Any = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the child now (it imports the protocol, which takes seconds), not at the first block."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> Connection:
        if self._conn is None or self._proc is None or not self._proc.is_alive():
            if self._proc is not None:
                log.warning("the executor process died (exit code %s): starting another", self._proc.exitcode)
            parent, child = self._ctx.Pipe()
            self._proc = self._ctx.Process(target=_worker, args=(child,), name="block-executor", daemon=True)
            self._proc.start()
            child.close()
            # Until the child has imported the protocol and armed its lifeline, a SIGKILL of this
            # process would leave it running: wait for it, so that a started executor never outlives us.
            if not parent.poll(START_TIMEOUT_S) or parent.recv() != ("ready",):
                self._proc.kill()
                raise SequencerError(f"the executor process did not start within {START_TIMEOUT_S:.0f} s")
            self._conn = parent
        return self._conn

    def execute(
        self,
        head: State,
        deposits: Sequence[Deposit],
        txs: Sequence[bytes],
        ctx: BatchContext,
        max_steps: int | None = None,
    ) -> ExecutedBlock:
        with self._lock:
            try:
                reply = self._call(head, deposits, txs, ctx, max_steps)
                if reply[0] == "missing":
                    conn = self._ensure()
                    conn.send(("load", list(head.leaves())))
                    loaded = conn.recv()
                    assert loaded == ("ok", head.root), loaded
                    reply = self._call(head, deposits, txs, ctx, max_steps)
            except (EOFError, OSError) as exc:
                self._conn = None
                raise SequencerError(f"the executor process failed: {type(exc).__name__}") from exc
        if reply[0] != "done":
            raise SequencerError(f"the executor process refused the block: {reply}")
        _, post_root, trace_root, steps, receipts, changes, seconds = reply
        post_state = State(head.tree.set_many(changes))
        if post_state.root != post_root:
            raise SequencerError("the executor process and the sequencer disagree on the post-state root")
        return ExecutedBlock(post_state, trace_root, steps, receipts, changes, seconds)

    def _call(
        self,
        head: State,
        deposits: Sequence[Deposit],
        txs: Sequence[bytes],
        ctx: BatchContext,
        max_steps: int | None,
    ) -> tuple[Any, ...]:
        conn = self._ensure()
        domain = ctx.domain
        conn.send(
            (
                "exec",
                head.root,
                list(deposits),
                list(txs),
                domain.chain_id,
                domain.verifying_contract,
                ctx.fees.price,
                ctx.fees.recipient,
                ctx.timestamp,
                max_steps,
            )
        )
        reply: tuple[Any, ...] = conn.recv()
        return reply

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(("stop",))
                self._conn.close()
                self._conn = None
            if self._proc is not None:
                self._proc.join(5)
                if self._proc.is_alive():
                    self._proc.kill()
                self._proc = None


def make_executor(kind: str) -> Executor:
    return ProcessExecutor() if kind == "process" else InlineExecutor()
