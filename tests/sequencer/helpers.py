"""Helpers of the sequencer tests: settings on a temporary database, a clock the tests move,
signed txs in both submission forms, funding through deposits, and a replay from batch data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from protocol.codec import decode_batch
from protocol.deposits import Deposit
from protocol.signing import Domain, sign_tx, to_checksum_address, typed_data
from protocol.state import State
from protocol.transition import BatchContext, apply_batch
from protocol.txs import Tx
from sequencer.builder import BlockBuilder
from sequencer.core.config import Settings
from sequencer.db.models import BatchStatus
from sequencer.db.store import Store
from sequencer.l1 import L1Deposit
from sequencer.node import Sequencer
from tests.protocol.harness import DOMAIN, ETH, Wallet

ROLLUP = to_checksum_address(DOMAIN.verifying_contract)
NOW = 1_800_000_000.0


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
    if nonce is None:
        nonce = wallet.nonce
        wallet.nonce += 1
    tx = make(nonce)
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


def replay_from_batches(store: Store) -> State:
    """The state rebuilt from genesis by executing every sealed batch from its data and the stored
    deposits with `apply_batch`, checking each batch's roots on the way (a stand-in for L1 data)."""
    state = State()
    batch_id = 0
    while (row := store.batch(batch_id)) is not None and row.status != BatchStatus.OPEN:
        assert row.data is not None and row.prev_root == state.root
        header, txs = decode_batch(row.data)
        deposits = [
            Deposit(d.index, d.recipient, d.amount)
            for d in store.deposits_from(row.deposit_start, row.deposit_count)
        ]
        result = apply_batch(state, deposits, txs, BatchContext(DOMAIN, header.timestamp))
        assert result.post_root == row.post_root, f"batch {batch_id}: post root differs"
        assert result.trace_root == row.trace_root, f"batch {batch_id}: trace root differs"
        state = result.post_state
        batch_id += 1
    return state
