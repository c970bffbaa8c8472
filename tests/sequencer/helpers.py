"""Helpers of the sequencer tests: settings on a temporary database, a clock the tests move,
signed txs in both submission forms, funding through deposits, the stored batches derived with the
shared derivation (`protocol.derive`, as L1 would hold them), and an in-memory Rollup."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from l1_contracts.reader import L1Update
from protocol.deposits import Deposit
from protocol.derive import Derivation, Derived, Verdict
from protocol.derive import PostedBatch as L1Batch
from protocol.fees import FeeSchedule
from protocol.hashing import keccak, merkle_root
from protocol.signing import Domain, sign_tx, to_checksum_address, typed_data
from protocol.state import State
from protocol.txs import Tx
from sequencer.builder import BlockBuilder
from sequencer.core.config import Settings
from sequencer.db.models import BatchState
from sequencer.db.store import Store
from sequencer.l1 import BatchToPost, ChallengePhase, L1Deposit, OnChainBatch, PostedBatch
from sequencer.node import Sequencer
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT_ADDRESS, FEES
from tests.support.wallets import ETH, Wallet

ROLLUP = to_checksum_address(DOMAIN.verifying_contract)
NOW = 1_800_000_000.0
FAKE_PROPOSER = to_checksum_address(b"\x0b" * 20)


class FakeClock:
    """Seconds since the epoch, moved by the test."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "chain_id": DOMAIN.chain_id,
        "rollup_address": ROLLUP,
        "fee_price": FEE_PRICE,
        "fee_recipient": FEE_RECIPIENT_ADDRESS,
        "block_interval_s": 0.05,
        "batch_max_age_s": 30.0,
        "executor": "inline",
    }
    values.update(overrides)
    return Settings(**values)


def sqlite_url(tmp_path: Path, name: str = "sequencer.db") -> str:
    return f"sqlite:///{tmp_path / name}"


def hexed(data: bytes) -> str:
    return "0x" + data.hex()


def raw_body(raw: bytes, sender: bytes | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"raw": hexed(raw)}
    if sender is not None:
        body["from"] = to_checksum_address(sender)
    return body


def typed_body(
    wallet: Wallet, make: Callable[[int], Tx], nonce: int | None = None, domain: Domain = DOMAIN
) -> dict[str, Any]:
    """The JSON typed form of `make(nonce)` signed by `wallet` (its next nonce by default)."""
    tx = make(wallet.take_nonce(nonce))
    signed = sign_tx(domain, tx, wallet.key)
    doc = typed_data(domain, tx)
    signature = signed.r.to_bytes(32, "big") + signed.s.to_bytes(32, "big") + bytes([signed.v])
    return {
        "type": doc["primaryType"],
        "message": doc["message"],
        "signature": hexed(signature),
        "from": to_checksum_address(wallet.address),
        "domain": doc["domain"],
    }


def fund(node: Sequencer, builder: BlockBuilder, wallets: list[Wallet], amount: int = 100 * ETH) -> None:
    """Deposit `amount` to each wallet through the deposit queue, in a batch of its own (sealed)."""
    start = node.store.next_deposit_index()
    node.ingest_deposits([L1Deposit(Deposit(start + i, w.address, amount), 1) for i, w in enumerate(wallets)])
    if node.open_batch is not None:
        builder.seal()
    built = builder.tick()
    assert built is not None and built.deposit_count == len(wallets)
    builder.seal()


def stored_batches(store: Store) -> list[L1Batch]:
    """Every sealed (or later) batch of `store`, in id order, as L1 holds one: its `appendBatch`
    arguments and the deposits it consumes."""
    out = []
    for row in store.batches(-1, 1_000_000):
        if row.status == BatchState.OPEN:
            break
        assert row.data is not None and row.data_hash is not None
        assert row.post_root is not None and row.trace_root is not None
        out.append(
            L1Batch(
                index=row.id,
                data=row.data,
                data_hash=row.data_hash,
                prev_root=row.prev_root,
                post_root=row.post_root,
                trace_root=row.trace_root,
                deposit_start=row.deposit_start,
                deposit_end=row.deposit_start + row.deposit_count,
                proposer=row.proposer or "",
            )
        )
    return out


def stored_deposits(store: Store) -> list[Deposit]:
    """The deposit queue as the sequencer stored it (index i at position i)."""
    return [Deposit(d.index, d.recipient, d.amount) for d in store.deposits_from(0, 1_000_000)]


def derive_stored(store: Store, domain: Domain = DOMAIN) -> tuple[Derivation, list[Derived]]:
    """The stored batches pushed through the shared derivation from genesis: the chain and the
    verdict on each."""
    chain = Derivation(domain, FEES)
    return chain, chain.extend(stored_batches(store), stored_deposits(store))


def replay_from_batches(store: Store, domain: Domain = DOMAIN) -> State:
    """The state the shared derivation gives the stored batches, every one of which must be VALID
    (their data, deposits and roots are what L1 would hold)."""
    chain, derived = derive_stored(store, domain)
    bad = [(d.batch.index, d.verdict, d.reason) for d in derived if d.verdict is not Verdict.VALID]
    assert not bad, f"stored batches the derivation does not find valid: {bad}"
    return chain.state


class FakeRollup:
    """A `BatchPoster` over an in-memory Rollup that checks what the contract checks: batches in
    order, each on the previous post root. `fail_next` makes the next `post` raise (after sending,
    with `sent=True`: the batch lands but the answer is lost), `window` is the challenge window."""

    def __init__(self, *, window: int = 0, now: Callable[[], float] | None = None) -> None:
        self.batches: list[BatchToPost] = []
        self.posted_at: list[float] = []
        self.finalized = 0
        self.window = window
        self.now = now or (lambda: NOW)
        self.l1_now: int | None = None  # the latest block's time; None: follows `now`
        self.fail_next: Exception | None = None
        self.fail_sent = False
        self.bonded = False
        self.posts = 0
        self.challenges: dict[int, ChallengePhase] = {}  # set by the test: a challenger's move
        self.revealed: dict[int, list[bytes]] = {}

    @property
    def proposer(self) -> str:
        return FAKE_PROPOSER

    def posted_count(self) -> int:
        return len(self.batches)

    def last_root(self) -> bytes:
        return self.batches[-1].post_root if self.batches else State().root

    def batch_roots(self, batch_id: int) -> tuple[bytes, bytes]:
        return self.batches[batch_id].data_hash, self.batches[batch_id].post_root

    def post(self, batch: BatchToPost) -> PostedBatch:
        self.posts += 1
        if self.fail_next is not None and not self.fail_sent:
            error, self.fail_next = self.fail_next, None
            raise error
        if batch.id != len(self.batches):
            raise ValueError(f"PrevRootMismatch: batch {batch.id} posted at {len(self.batches)}")
        assert not self.batches or self.batches[-1].post_root == batch.prev_root
        self.batches.append(batch)
        self.posted_at.append(self.now())
        if self.fail_next is not None:  # sent and mined, but the receipt never came back
            error, self.fail_next = self.fail_next, None
            raise error
        return self.receipt(batch.id)

    def receipt(self, batch_id: int) -> PostedBatch:
        batch = self.batches[batch_id]
        return PostedBatch(batch_id, keccak(batch.data), 100 + batch_id, 50_000 + len(batch.data) * 16)

    def onchain(self, batch_id: int) -> OnChainBatch:
        b = self.batches[batch_id]
        return OnChainBatch(batch_id, b.data_hash, b.post_root, self.receipt(batch_id))

    def l1_time(self) -> int:
        return int(self.now()) if self.l1_now is None else self.l1_now

    def ensure_bonded(self) -> bool:
        sent, self.bonded = not self.bonded, True
        return sent

    def finalized_count(self) -> int:
        return self.finalized

    def challenge_phase(self, batch_id: int) -> ChallengePhase:
        return self.challenges.get(batch_id, ChallengePhase.NONE)

    def reveal(self, batch_id: int, step_hashes: Sequence[bytes]) -> PostedBatch:
        assert self.challenges.get(batch_id) == ChallengePhase.AWAITING_REVEAL, "nothing to reveal"
        assert merkle_root(list(step_hashes)) == self.batches[batch_id].trace_root, "wrong steps"
        self.challenges[batch_id] = ChallengePhase.AWAITING_PROOF
        self.revealed[batch_id] = list(step_hashes)
        return PostedBatch(batch_id, keccak(b"reveal" + bytes([batch_id])), 200 + batch_id, 40_000)

    def finalize(self) -> int:
        while (
            self.finalized < len(self.batches)
            and self.posted_at[self.finalized] + self.window <= self.now()
            and self.finalized not in self.challenges  # a challenged batch stops finalization
        ):
            self.finalized += 1
        return self.finalized


class FakeL1:
    """An `L1Batches` with no batches and no deposits that the test takes down and up (`down`)."""

    def __init__(self, domain: Domain = DOMAIN, *, down: bool = False, fees: FeeSchedule = FEES) -> None:
        self._domain = domain
        self._fees = fees
        self.down = down
        self.polls = 0

    def poll(self, max_blocks: int | None = None) -> L1Update:
        if self.down:
            raise ConnectionError("L1 unreachable")
        self.polls += 1
        return L1Update(safe_block=self.polls)

    @property
    def live_batches(self) -> list[L1Batch]:
        return []

    @property
    def deposits(self) -> list[Deposit]:
        return []

    def domain(self) -> Domain:
        return self._domain

    def fees(self) -> FeeSchedule:
        return self._fees

    def forget_data(self, below: int) -> None:
        pass  # it holds no batch
