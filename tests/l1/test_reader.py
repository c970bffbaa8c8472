"""`l1_contracts.reader`: the live batches and the deposit queue from L1 events and calldata alone, on
py-evm, through appends, a deletion by a won challenge, a re-append, confirmations and a reorg; and the
shared derivation judging what it reads (docs/spec.md section 10)."""

from __future__ import annotations

from functools import partial

import pytest

from l1_contracts.reader import Appended, Deleted, L1Reader, RollupMissing, deployment_domain
from protocol.derive import Derivation, Verdict
from protocol.hashing import keccak
from protocol.signing import Domain
from protocol.state import State
from protocol.transition import BatchContext, apply_batch
from protocol.txs import Transfer
from tests.l1.game import RESPONSE, Game, make_game
from tests.support.fees import FEE_PRICE, FEES
from tests.support.wallets import ETH, Wallet

ALICE, BOB = Wallet.from_seed(11), Wallet.from_seed(12)


def reader_of(game: Game, confirmations: int = 0) -> L1Reader:
    return L1Reader(
        game.rollup, game.bridge, from_block=game.deployment.block_number, confirmations=confirmations
    )


def fund(game: Game) -> None:
    game.bridge.deposit(game.sender(5), ALICE.address, 3 * ETH)
    game.bridge.deposit(game.sender(5), BOB.address, ETH)


def test_reader_follows_appends_deletes_and_reappends() -> None:
    game = make_game()
    domain = deployment_domain(game.rollup)
    assert domain == Domain(game.deployment.chain_id, bytes.fromhex(game.deployment.rollup[2:]))
    fund(game)
    ctx = BatchContext(domain, FEES, game.now())
    tx = ALICE.sign(partial(Transfer, to=BOB.address, amount=ETH, max_fee_price=FEE_PRICE), domain, nonce=0)
    r0 = apply_batch(State(), [d.deposit for d in game.bridge.deposit_logs()], [tx], ctx)
    game.post_result(r0)
    tx1 = ALICE.sign(partial(Transfer, to=BOB.address, amount=1, max_fee_price=FEE_PRICE), domain, nonce=1)
    r1 = apply_batch(r0.post_state, [], [tx1], ctx)
    game.post_result(r1, post_root=keccak(b"forged"), sender=game.other_proposer)

    reader, chain = reader_of(game), Derivation(domain, FEES)
    update = reader.poll()
    assert [type(c) for c in update.changes] == [Appended, Appended]
    assert len(update.deposits) == 2 and update.batch_count == 2
    verdicts = [
        chain.push(c.batch, reader.deposits).verdict for c in update.changes if isinstance(c, Appended)
    ]
    assert verdicts == [Verdict.VALID, Verdict.WRONG_ROOTS]
    first = reader.live_batches[0]
    assert (first.deposit_start, first.deposit_end, first.data_hash) == (
        0,
        2,
        game.rollup.get_batch(0).data_hash,
    )
    assert (
        reader.live_batches[1].deposit_start == 2
        and reader.live_batches[1].proposer == game.other_proposer.address
    )
    assert reader.poll().changes == ()  # nothing new

    game.rollup.challenge(game.challenger, 1)
    game.advance(RESPONSE)  # the forger never reveals
    game.rollup.settle_timeout(game.watcher, 1)
    game.post_result(r1)  # the honest proposer appends batch 1 again
    update = reader.poll()
    assert [type(c) for c in update.changes] == [Deleted, Appended]
    for change in update.changes:
        if isinstance(change, Deleted):
            chain.rewind(change.index)
        else:
            assert chain.push(change.batch, reader.deposits).verdict is Verdict.VALID
    assert chain.state.root == r1.post_root == game.rollup.last_root()
    assert [b.post_root for b in reader.live_batches] == [r0.post_root, r1.post_root]


def test_a_long_running_reader_drops_the_data_of_final_batches() -> None:
    game = make_game(window=10)
    fund(game)
    domain = deployment_domain(game.rollup)
    result = apply_batch(
        State(), [d.deposit for d in game.bridge.deposit_logs()], [], BatchContext(domain, FEES, game.now())
    )
    game.post_result(result)
    reader = reader_of(game)
    assert reader.poll().changes[0].batch.data != b""  # type: ignore[union-attr]
    reader.forget_data(1)  # not final yet: kept
    assert reader.live_batches[0].data != b""
    game.advance(10)
    game.rollup.finalize(game.watcher)
    assert reader.poll().finalized_count == 1
    reader.forget_data(1)
    assert reader.live_batches[0].data == b""
    assert reader.live_batches[0].deposit_end == 2  # what the next batch's derivation needs stays


def test_confirmations_hold_back_the_latest_blocks() -> None:
    game = make_game()
    fund(game)
    reader = reader_of(game, confirmations=2)
    head = int(game.w3.eth.block_number)
    update = reader.poll()
    assert update.safe_block == head - 2 and update.deposits == ()  # both deposits are too recent
    game.tester.mine_blocks(2)
    assert len(reader.poll().deposits) == 2


def test_a_reorg_below_the_scanned_block_starts_over() -> None:
    game = make_game()
    snapshot = game.tester.take_snapshot()
    fund(game)
    reader = reader_of(game)
    assert len(reader.poll().deposits) == 2
    game.tester.revert_to_snapshot(snapshot)  # the two deposits are gone; another one takes their place
    game.bridge.deposit(game.sender(6), BOB.address, 7)
    game.tester.mine_blocks(1)
    update = reader.poll()
    assert update.reset
    assert [d.amount for d in reader.deposits] == [7]


def test_a_chain_without_the_rollup_is_refused_not_read_as_empty() -> None:
    # What a devnet restart does (it keeps its chain in memory): the same URL, a new chain, no
    # Rollup at the address. Read as a reorg, it would be a history without batches or deposits, and
    # the sequencer would undo every batch it posted (the crash harness's devnet kills found this).
    game = make_game()
    domain = deployment_domain(game.rollup)
    fund(game)
    ctx = BatchContext(domain, FEES, game.now())
    tx = ALICE.sign(partial(Transfer, to=BOB.address, amount=1, max_fee_price=FEE_PRICE), domain, nonce=0)
    game.post_result(apply_batch(State(), [d.deposit for d in game.bridge.deposit_logs()], [tx], ctx))
    reader = reader_of(game)
    assert reader.poll().batch_count == 1
    head = int(game.w3.eth.block_number)
    game.tester.reset_to_genesis()
    game.tester.mine_blocks(head + 2)  # past the block the reader scanned: its hash has changed
    with pytest.raises(RollupMissing, match="no contract at the Rollup's address"):
        reader.poll()
    assert len(reader.live_batches) == 1 and len(reader.deposits) == 2  # the view stays as it was
    fresh = reader_of(game)  # a role started against the new chain refuses it too
    with pytest.raises(RollupMissing):
        fresh.poll()
