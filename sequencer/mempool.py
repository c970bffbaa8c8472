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
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from protocol.deposits import Deposit
from protocol.params import MAX_TX_BYTES
from protocol.receipts import Reason, Receipt
from protocol.signing import Domain, to_checksum_address
from protocol.state import State
from protocol.transition import BatchContext, BatchResult, apply_batch
from protocol.txs import TxType
from sequencer.core.errors import REASON_CODES, ApiError, api_error

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

    def __init__(self, domain: Domain, head: State, ts: int) -> None:
        self.domain = domain
        self.txs: list[PendingTx] = []
        self.by_hash: dict[bytes, PendingTx] = {}
        self.state = head
        self.ts: int | None = ts  # None: txs were checked at different timestamps
        self.timed = 0  # pending time-dependent txs

    def __len__(self) -> int:
        return len(self.txs)

    def dry_run(self, subs: Sequence[Submission], ts: int) -> tuple[BatchResult, list[ApiError | None]]:
        """Execute `subs` after every pending tx at `ts`; the outcome and, per tx, why it is refused."""
        result = apply_batch(self.state, (), [s.raw for s in subs], BatchContext(self.domain, ts))
        errors = [
            _rejection(result, receipt, sub, self.domain)
            for receipt, sub in zip(result.receipts, subs, strict=True)
        ]
        return result, errors

    def add(self, txs: Sequence[PendingTx], post_state: State, ts: int) -> None:
        """Append accepted txs whose dry-run (at `ts`, after every pending tx) gave `post_state`."""
        if self.txs and self.ts != ts:
            self.ts = None
        elif not self.txs:
            self.ts = ts
        self.txs.extend(txs)
        self.by_hash.update((t.hash, t) for t in txs)
        self.timed += sum(t.tx_type in TIMED for t in txs)
        self.state = post_state

    def stale(self, ts: int) -> bool:
        """Whether the pending state must be rebuilt for blocks at `ts`."""
        if self.timed and self.ts != ts:
            return True
        self.ts = ts
        return False

    def credit(self, deposits: Sequence[Deposit], ts: int) -> None:
        """Credit deposits a block consumed (the pending txs came after them in no block yet)."""
        self.state = apply_batch(self.state, deposits, (), BatchContext(self.domain, ts)).post_state

    def drop_executed(self, executed: Sequence[PendingTx]) -> None:
        """Remove the first `len(executed)` txs, which a block just executed."""
        count = len(executed)
        assert [t.hash for t in self.txs[:count]] == [t.hash for t in executed], "mempool order broken"
        for t in self.txs[:count]:
            del self.by_hash[t.hash]
        self.timed -= sum(t.tx_type in TIMED for t in executed)
        del self.txs[:count]

    def insert(self, txs: Sequence[PendingTx]) -> None:
        """Add txs accepted earlier (a rollback requeues them), in seq order among the others;
        `rebuild` afterwards."""
        fresh = [t for t in txs if t.hash not in self.by_hash]
        if fresh:
            self.txs = sorted([*self.txs, *fresh], key=lambda t: t.seq)
            self.by_hash.update((t.hash, t) for t in fresh)

    def remove(self, hashes: Collection[bytes]) -> list[PendingTx]:
        """Drop the pending txs with these hashes (another proposer's batch executed them), wherever
        they are; returns them. `rebuild` afterwards."""
        gone = [t for t in self.txs if t.hash in hashes]
        if gone:
            self.txs = [t for t in self.txs if t.hash not in hashes]
            for t in gone:
                del self.by_hash[t.hash]
        return gone

    def drop_suffix(self, count: int) -> None:
        """Forget the last `count` txs (their commit failed); `rebuild` afterwards."""
        if count:
            for t in self.txs[-count:]:
                del self.by_hash[t.hash]
            del self.txs[-count:]

    def rebuild(self, head: State, ts: int) -> None:
        """Recompute the pending state on `head` at `ts` (after deposits or a new batch timestamp);
        txs a rollback requeued run at their own `replay_ts`, as the builder will run them."""
        state = head
        start = 0
        while start < len(self.txs):
            replay = self.txs[start].replay_ts
            end = start
            while end < len(self.txs) and self.txs[end].replay_ts == replay:
                end += 1
            group = [t.raw for t in self.txs[start:end]]
            at = ts if replay is None else replay
            state = apply_batch(state, (), group, BatchContext(self.domain, at)).post_state
            start = end
        self.state = state
        self.ts = ts
        self.timed = sum(t.tx_type in TIMED for t in self.txs)


def _pre_state(result: BatchResult, receipt: Receipt) -> State:
    """The state a tx executed on: after the step before its first one."""
    return result.pre_state if receipt.first_step == 0 else result.steps[receipt.first_step - 1].state


def _rejection(result: BatchResult, receipt: Receipt, sub: Submission, domain: Domain) -> ApiError | None:
    reason = receipt.reason
    if reason is Reason.DECODE_ERROR:
        if "MAX_TENSOR" in receipt.detail:
            return api_error("tensor_too_large", receipt.detail)
        if len(sub.raw) > MAX_TX_BYTES:
            return api_error("tx_too_large", receipt.detail)
        return api_error("decode_error", f"the bytes are not a canonical signed tx: {receipt.detail}")
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
