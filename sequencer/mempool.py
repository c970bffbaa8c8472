"""The mempool: pending txs in arrival order, the state after all of them, and admission.

Admission dry-runs a submission with `apply_batch` on the pending state (the state after every
pending tx, at the timestamp the next block will most likely carry). A tx that would fail there is
refused with its reason; one that would succeed is accepted. The block builder later executes the
pending txs, in order, on the committed state: the same outcome unless time moved past a deadline
in between (then the tx is executed with a failed receipt; acknowledged never means "will
succeed", it means "will be executed").

Invariant: `state == apply_batch(head, [], txs, ts).post_state` for the block builder's `head`,
where `ts` matters only while a time-dependent tx (one that compares the batch timestamp with a
deadline) is pending. A block that executes a prefix of the pending txs keeps the invariant; a
block at another timestamp calls for `rebuild` when time-dependent txs are pending, and deposits
are credited on top (`credit`: a deposit only adds to a balance, so every pending tx that
succeeded without it succeeds with it, and the order of credits and debits does not change the
result).

`rebuild` re-executes only what a batch's time can change: from the first time-dependent tx on. It
starts from the pending state right after the tx before it, kept from its dry-run (`_after`) while
the chain of those states still starts at the head (`_base`); deposits, a rollback, another
proposer's batch or a block that did not end where the dry-runs did drop them, and the next rebuild
runs in full. So a batch that opens behind a time-dependent tx does not execute again the heavy txs
in front of it.

Pending work is counted in steps: each pending tx's step count as its dry-run (or the last
`rebuild`) measured it, in all and by sender. The block builder plans blocks with these counts
(`steps_of`), so that a block's txs fit the batch's step cap without running any of them twice, and
admission bounds the work a sender, and everyone, may leave pending (`sequencer.node`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from protocol.deposits import Deposit
from protocol.fees import FeeSchedule
from protocol.params import MAX_JOB_STEPS, MAX_TX_BYTES
from protocol.receipts import Reason, Receipt
from protocol.signing import Domain, to_checksum_address
from protocol.state import Overlay, State
from protocol.transition import (
    BatchContext,
    BatchResult,
    Machine,
    StepFunction,
    StepOutcome,
    apply_batch,
    execute_step,
)
from protocol.txs import TxType
from sequencer.core.errors import REASON_CODES, ApiError, SequencerError, api_error

# Txs whose outcome depends on the batch timestamp (they compare it with a deadline).
TIMED = frozenset(
    {
        TxType.CREATE_TASK,
        TxType.COMMIT_MODEL,
        TxType.REVEAL_TEST_SET,
        TxType.REVEAL_MODEL,
        TxType.FINALIZE_TASK,
    }
)
# Txs that start a job (training, scoring): up to MAX_JOB_STEPS steps after their own.
JOB_TYPES = frozenset({TxType.TRAIN, TxType.REVEAL_MODEL})


class TooMuchWork(SequencerError):
    """A dry-run took more than the steps it was allowed (`Mempool.dry_run`'s `max_steps`)."""


def counting_steps(limit: int) -> StepFunction:
    """`execute_step`, unchanged, that raises `TooMuchWork` instead of running step `limit + 1`."""
    done = 0

    def step(
        overlay: Overlay, machine: Machine, item: Deposit | bytes | None, ctx: BatchContext
    ) -> StepOutcome:
        nonlocal done
        done += 1
        if done > limit:
            raise TooMuchWork(f"the txs take more than {limit} steps")
        return execute_step(overlay, machine, item, ctx)

    return step


def max_steps_of(raw: bytes) -> int:
    """The most steps a tx can take, from its type byte alone: before it has run."""
    return 1 + MAX_JOB_STEPS if raw[:1] and raw[0] in JOB_TYPES else 1


def states_after(result: BatchResult) -> list[State]:
    """The state right after each tx of `result` (after its last step)."""
    return [result.steps[r.last_step].state for r in result.receipts]


def receipt_steps(receipts: Iterable[Receipt]) -> list[int]:
    """Each executed tx's step count."""
    return [r.last_step - r.first_step + 1 for r in receipts]


@dataclass(frozen=True, slots=True)
class Submission:
    """One tx as submitted: its canonical bytes and, optionally, the sender the client claims."""

    raw: bytes
    sender: bytes | None = None


@dataclass(frozen=True, slots=True)
class PendingTx:
    """An accepted (durably stored) tx waiting for a block."""

    seq: int  # arrival order
    hash: bytes
    raw: bytes
    tx_type: int
    sender: bytes
    nonce: int
    received_at: float
    replay_ts: int | None = None  # undone by a rollback: runs again at its first batch's timestamp


def tx_nonce(raw: bytes) -> int:
    """The nonce of canonical tx bytes: every body starts with `u64 nonce` after the type byte."""
    return int.from_bytes(raw[1:9], "big")


class Mempool:
    """Pending txs and the pending state (see the module docstring for the invariant)."""

    def __init__(self, domain: Domain, fees: FeeSchedule, head: State, ts: int) -> None:
        self.domain = domain
        self.fees = fees
        self.txs: list[PendingTx] = []
        self.by_hash: dict[bytes, PendingTx] = {}
        self.state = head
        self.ts: int | None = ts  # None: txs were checked at different timestamps
        self.timed = 0  # pending time-dependent txs
        self._steps: dict[bytes, int] = {}  # by hash: the steps each pending tx took when last run
        self.pending_steps = 0
        self.sender_steps: Counter[bytes] = Counter()
        self._after: dict[bytes, State] = {}  # by hash: the pending state right after each tx
        self._base: bytes | None = head.root  # the root the `_after` chain starts from; None: broken

    def _break_chain(self) -> None:
        self._after.clear()
        self._base = None

    def __len__(self) -> int:
        return len(self.txs)

    def steps_of(self, tx: PendingTx) -> int:
        """The steps `tx` took when it last ran on the pending state (its most before it ran)."""
        return self._steps.get(tx.hash, max_steps_of(tx.raw))

    def _count(self, txs: Iterable[PendingTx], sign: int) -> None:
        for t in txs:
            n = sign * self.steps_of(t)
            self.pending_steps += n
            self.sender_steps[t.sender] += n
            if self.sender_steps[t.sender] <= 0:
                del self.sender_steps[t.sender]

    def _measured(self, txs: Sequence[PendingTx], steps: Sequence[int]) -> None:
        """Record the step counts a run of `txs` (in the pending state's order) measured."""
        self._count(txs, -1)
        self._steps.update((t.hash, n) for t, n in zip(txs, steps, strict=True))
        self._count(txs, +1)

    def _forget(self, txs: Iterable[PendingTx]) -> None:
        txs = list(txs)
        self._count(txs, -1)
        for t in txs:
            self._steps.pop(t.hash, None)

    def dry_run(
        self, subs: Sequence[Submission], ts: int, *, on: State | None = None, max_steps: int | None = None
    ) -> tuple[BatchResult, list[ApiError | None]]:
        """Execute `subs` after every pending tx (on the pending state, or `on`, one read earlier) at
        `ts`; the outcome and, per tx, why it is refused. `TooMuchWork` as soon as they take more
        than `max_steps` steps. Reads nothing but its arguments and the domain, so it may run outside
        the sequencer's lock."""
        base = self.state if on is None else on
        step = execute_step if max_steps is None else counting_steps(max_steps)
        result = apply_batch(
            base, (), [s.raw for s in subs], BatchContext(self.domain, self.fees, ts), step=step
        )
        errors = [
            _rejection(result, receipt, sub, self.domain)
            for receipt, sub in zip(result.receipts, subs, strict=True)
        ]
        return result, errors

    def add(
        self,
        txs: Sequence[PendingTx],
        post_state: State,
        ts: int,
        steps: Sequence[int],
        after: Sequence[State] | None = None,
    ) -> None:
        """Append accepted txs whose dry-run (at `ts`, after every pending tx) gave `post_state`,
        each taking `steps`, with the state `after` each of them (none: the rebuild runs in full)."""
        if not self.txs:
            self._after.clear()
            self._base = self.state.root
        if after is None:
            self._break_chain()
        else:
            self._after.update((t.hash, a) for t, a in zip(txs, after, strict=True))
        if self.txs and self.ts != ts:
            self.ts = None
        elif not self.txs:
            self.ts = ts
        self.txs.extend(txs)
        self.by_hash.update((t.hash, t) for t in txs)
        self.timed += sum(t.tx_type in TIMED for t in txs)
        self._steps.update((t.hash, n) for t, n in zip(txs, steps, strict=True))
        self._count(txs, +1)
        self.state = post_state

    def stale(self, ts: int) -> bool:
        """Whether the pending state must be rebuilt for blocks at `ts`."""
        if self.timed and self.ts != ts:
            return True
        self.ts = ts
        return False

    def credit(self, deposits: Sequence[Deposit], ts: int) -> None:
        """Credit deposits a block consumed (the pending txs came after them in no block yet)."""
        self.state = apply_batch(
            self.state, deposits, (), BatchContext(self.domain, self.fees, ts)
        ).post_state
        self._break_chain()  # the states kept lack the credits

    def drop_executed(self, executed: Sequence[PendingTx]) -> None:
        """Remove the first `len(executed)` txs, which a block just executed."""
        count = len(executed)
        assert [t.hash for t in self.txs[:count]] == [t.hash for t in executed], "mempool order broken"
        for t in self.txs[:count]:
            del self.by_hash[t.hash]
        self.timed -= sum(t.tx_type in TIMED for t in executed)
        self._forget(self.txs[:count])
        if count:  # the chain now starts after the last executed tx, if the dry-runs reached it
            last = self._after.get(executed[-1].hash)
            self._base = None if last is None or self._base is None else last.root
        for t in executed:
            self._after.pop(t.hash, None)
        del self.txs[:count]

    def insert(self, txs: Sequence[PendingTx]) -> None:
        """Add txs accepted earlier (a rollback requeues them), in seq order among the others;
        `rebuild` afterwards."""
        fresh = [t for t in txs if t.hash not in self.by_hash]
        if fresh:
            self.txs = sorted([*self.txs, *fresh], key=lambda t: t.seq)
            self.by_hash.update((t.hash, t) for t in fresh)
            self._count(fresh, +1)
            self._break_chain()

    def remove(self, hashes: Collection[bytes]) -> list[PendingTx]:
        """Drop the pending txs with these hashes (another proposer's batch executed them), wherever
        they are; returns them. `rebuild` afterwards."""
        gone = [t for t in self.txs if t.hash in hashes]
        if gone:
            self.txs = [t for t in self.txs if t.hash not in hashes]
            for t in gone:
                del self.by_hash[t.hash]
            self._forget(gone)
            self._break_chain()
        return gone

    def drop_suffix(self, count: int) -> None:
        """Forget the last `count` txs (their commit failed); `rebuild` afterwards."""
        if count:
            for t in self.txs[-count:]:
                del self.by_hash[t.hash]
                self._after.pop(t.hash, None)
            self._forget(self.txs[-count:])
            del self.txs[-count:]

    def rebuild(self, head: State, ts: int) -> None:
        """Recompute the pending state on `head` at `ts` (after deposits or a new batch timestamp);
        txs a rollback requeued run at their own `replay_ts`, as the builder will run them. Only the
        txs from the first time-dependent one on are executed when the states before it are kept."""
        state, start = head, self._kept_prefix(head)
        if start:
            state = self._after[self.txs[start - 1].hash]
        else:
            self._after.clear()
            self._base = head.root
        while start < len(self.txs):
            replay = self.txs[start].replay_ts
            end = start
            while end < len(self.txs) and self.txs[end].replay_ts == replay:
                end += 1
            group = self.txs[start:end]
            at = ts if replay is None else replay
            result = apply_batch(state, (), [t.raw for t in group], BatchContext(self.domain, self.fees, at))
            self._measured(group, receipt_steps(result.receipts))
            self._after.update((t.hash, a) for t, a in zip(group, states_after(result), strict=True))
            state = result.post_state
            start = end
        self.state = state
        self.ts = ts
        self.timed = sum(t.tx_type in TIMED for t in self.txs)

    def _kept_prefix(self, head: State) -> int:
        """How many pending txs, before the first time-dependent one, need not run again: their
        kept states start at `head`."""
        if self._base != head.root:
            return 0
        count = 0
        for t in self.txs:
            if t.tx_type in TIMED or t.replay_ts is not None or t.hash not in self._after:
                break
            count += 1
        return count


def _pre_state(result: BatchResult, receipt: Receipt) -> State:
    """The state a tx executed on: after the step before its first one."""
    return result.pre_state if receipt.first_step == 0 else result.steps[receipt.first_step - 1].state


def decode_refusal(raw: bytes, detail: str) -> ApiError:
    """The refusal of bytes that do not decode as a signed tx (`detail`: the codec's error), as
    admission gives it; the fee estimate answers the same."""
    if "MAX_TENSOR" in detail:
        return api_error("tensor_too_large", detail)
    if len(raw) > MAX_TX_BYTES:
        return api_error("tx_too_large", detail)
    return api_error("decode_error", f"the bytes are not a canonical signed tx: {detail}")


def _rejection(result: BatchResult, receipt: Receipt, sub: Submission, domain: Domain) -> ApiError | None:
    reason = receipt.reason
    if reason is Reason.DECODE_ERROR:
        return decode_refusal(sub.raw, receipt.detail)
    if reason is Reason.BAD_SIGNATURE:
        return api_error("bad_signature", receipt.detail)
    assert receipt.sender is not None
    if sub.sender is not None and receipt.sender != sub.sender:
        return api_error(
            "wrong_domain",
            f"the signature recovers to {to_checksum_address(receipt.sender)}, not `from` "
            f"{to_checksum_address(sub.sender)}: sign for chain id {domain.chain_id} and Rollup "
            f"{to_checksum_address(domain.verifying_contract)} (GET /v1/info), with the key of `from`",
        )
    if reason is Reason.OK:
        return None
    if reason is Reason.BAD_NONCE:
        nonce = tx_nonce(sub.raw)
        expected = _pre_state(result, receipt).account(receipt.sender).nonce
        if nonce < expected:
            return api_error(
                "nonce_too_low",
                f"nonce {nonce} is already used: the account's next (pending) nonce is {expected}",
                expected_nonce=expected,
            )
        return api_error(
            "nonce_gap",
            f"nonce {nonce} leaves a gap: the account's next (pending) nonce is {expected}",
            expected_nonce=expected,
        )
    name = TxType(sub.raw[0]).name
    return api_error(REASON_CODES[reason], f"{name} would fail: {receipt.detail}")
