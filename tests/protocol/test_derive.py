"""`protocol.derive`: each verdict of docs/spec.md section 10, and the honest chain after a wrong batch."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from protocol.codec import batch_data_hash, decode_batch, encode_batch
from protocol.deposits import Deposit
from protocol.derive import (
    Derivation,
    DerivationError,
    PostedBatch,
    Verdict,
    consumed_deposits,
    derive_batch,
)
from protocol.hashing import keccak
from protocol.state import State
from protocol.transition import BatchContext, apply_batch
from tests.support.domain import DOMAIN
from tests.support.fees import FEES
from tests.support.wallets import ETH, Wallet, transfer

ALICE, BOB = Wallet.from_seed(1), Wallet.from_seed(2)
QUEUE = [Deposit(0, ALICE.address, 10 * ETH), Deposit(1, BOB.address, 5 * ETH), Deposit(2, BOB.address, 1)]


def posted(state: State, index: int, txs: list[bytes], dep: tuple[int, int], **override: Any) -> PostedBatch:
    """The honest `PostedBatch` of `txs` after `state` (roots overridable), consuming QUEUE[dep]."""
    ts = 1_000
    data = encode_batch(ts, txs)
    result = apply_batch(state, QUEUE[dep[0] : dep[1]], txs, BatchContext(DOMAIN, FEES, ts))
    header, decoded = decode_batch(data)
    batch = PostedBatch(
        index=index,
        data=data,
        data_hash=batch_data_hash(header, decoded),
        prev_root=state.root,
        post_root=result.post_root,
        trace_root=result.trace_root,
        deposit_start=dep[0],
        deposit_end=dep[1],
    )
    return replace(batch, **override)


def test_valid_batch_gives_the_honest_result() -> None:
    batch = posted(State(), 0, [ALICE.sign(transfer(BOB.address, ETH), nonce=0)], (0, 2))
    out = derive_batch(State(), batch, QUEUE, DOMAIN, FEES)
    assert out.verdict is Verdict.VALID and not out.verdict.is_fraud
    assert out.result is not None and out.result.post_root == batch.post_root
    assert out.result.post_state.account(BOB.address).balance == 6 * ETH


@pytest.mark.parametrize("field", ["post_root", "trace_root"])
def test_a_wrong_root_is_fraud(field: str) -> None:
    batch = posted(
        State(), 0, [ALICE.sign(transfer(BOB.address, ETH), nonce=0)], (0, 2), **{field: keccak(b"forged")}
    )
    out = derive_batch(State(), batch, QUEUE, DOMAIN, FEES)
    assert out.verdict is Verdict.WRONG_ROOTS and out.verdict.is_fraud
    assert field.replace("_", " ") in out.reason
    assert out.result is not None  # the honest result, which the fraud proof is built from


def test_undecodable_or_unmatched_data_is_fraud() -> None:
    batch = posted(State(), 0, [b"\x01\x02"], (0, 1))
    assert (
        derive_batch(State(), replace(batch, data=b"\xff"), QUEUE, DOMAIN, FEES).verdict
        is Verdict.UNDECODABLE
    )
    other = encode_batch(1_000, [b"\x01\x03"])  # decodes, but is not the data L1 recorded
    out = derive_batch(State(), replace(batch, data=other), QUEUE, DOMAIN, FEES)
    assert out.verdict is Verdict.UNDECODABLE and out.result is None
    unavailable = derive_batch(State(), replace(batch, data=b""), QUEUE, DOMAIN, FEES)
    assert unavailable.verdict is Verdict.UNDECODABLE  # what the reader gives for unreadable calldata


def test_a_batch_on_another_root_is_off_chain() -> None:
    batch = posted(State(), 0, [b"\x01"], (0, 1), prev_root=keccak(b"elsewhere"))
    out = derive_batch(State(), batch, QUEUE, DOMAIN, FEES)
    assert out.verdict is Verdict.OFF_CHAIN and not out.verdict.is_fraud


def test_deposits_read_short_or_out_of_order_are_the_readers_fault() -> None:
    batch = posted(State(), 0, [b"\x01"], (0, 3))
    with pytest.raises(DerivationError, match="read short"):
        consumed_deposits(batch, QUEUE[:2])
    with pytest.raises(DerivationError, match="index"):
        consumed_deposits(batch, [QUEUE[1], QUEUE[0], QUEUE[2]])
    later = replace(posted(State(), 0, [b"\x01"], (0, 1)), deposit_start=1, deposit_end=2)  # skips 0
    with pytest.raises(DerivationError, match="consumed 0"):
        derive_batch(State(), later, QUEUE, DOMAIN, FEES)


def test_derivation_goes_on_from_the_honest_state_after_a_wrong_batch() -> None:
    chain = Derivation(DOMAIN, FEES)
    b0 = posted(State(), 0, [ALICE.sign(transfer(BOB.address, ETH), nonce=0)], (0, 2))
    assert chain.push(b0, QUEUE).verdict is Verdict.VALID
    honest_after_0 = chain.state
    b1_honest = posted(honest_after_0, 1, [ALICE.sign(transfer(BOB.address, ETH), nonce=1)], (2, 2))
    b1 = replace(b1_honest, post_root=keccak(b"steal"))
    assert chain.push(b1, QUEUE).verdict is Verdict.WRONG_ROOTS
    assert chain.state.root == b1_honest.post_root  # the honest post state, not the posted one
    b2 = posted(honest_after_0, 2, [b"\x01"], (2, 2), prev_root=b1.post_root)
    assert chain.push(b2, QUEUE).verdict is Verdict.OFF_CHAIN
    assert chain.first_fraud() is not None and chain.first_fraud().batch.index == 1  # type: ignore[union-attr]
    with pytest.raises(DerivationError, match="batch 4 given"):
        chain.push(replace(b2, index=4), QUEUE)

    chain.rewind(1)  # L1 deleted batches 1 and 2; the honest proposer appends batch 1 again
    assert chain.next_index == 1 and chain.state.root == honest_after_0.root
    assert chain.push(b1_honest, QUEUE).verdict is Verdict.VALID and chain.first_fraud() is None


def test_settled_batches_free_their_results_and_cannot_be_rewound() -> None:
    chain = Derivation(DOMAIN, FEES)
    b0 = posted(State(), 0, [ALICE.sign(transfer(BOB.address, ETH), nonce=0)], (0, 2))
    chain.push(b0, QUEUE)
    b1 = posted(chain.state, 1, [ALICE.sign(transfer(BOB.address, 1), nonce=1)], (2, 3))
    chain.push(b1, QUEUE)
    root = chain.state.root
    chain.settle(0)
    assert (chain.base_index, len(chain.derived), chain.state.root) == (1, 1, root)
    assert chain.get(0) is None and chain.get(1) is not None
    chain.settle(5)  # past the end: everything kept is settled
    assert (chain.base_index, chain.derived, chain.state.root) == (2, [], root)
    with pytest.raises(DerivationError, match="settled"):
        chain.rewind(1)
