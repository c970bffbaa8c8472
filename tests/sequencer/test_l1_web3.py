"""The web3 implementations of the L1 interfaces against the real contracts on py-evm."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_tester import EthereumTester
from web3 import Web3

from l1_contracts.bindings.bridge import Bridge
from l1_contracts.bindings.rollup import Rollup
from l1_contracts.bindings.tx import UnlockedSender
from l1_contracts.deploy import Deployment, deploy
from protocol.codec import BatchHeader, batch_data_hash, encode_batch
from protocol.params import PROTOCOL_VERSION
from protocol.signing import Domain
from protocol.state import State
from protocol.transition import BatchContext, apply_batch
from sequencer.batcher import Batcher, BatcherConfig
from sequencer.builder import BlockBuilder
from sequencer.db.models import BatchState
from sequencer.l1 import BatchToPost
from sequencer.l1_web3 import BridgeDeposits, RollupPoster
from sequencer.node import Sequencer
from tests.sequencer.helpers import make_settings, sqlite_url
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT_ADDRESS, FEES
from tests.support.l1 import make_w3
from tests.support.wallets import ETH


def accounts(w3: Web3) -> list[str]:
    return [str(a) for a in w3.eth.accounts]


@pytest.fixture
def chain() -> tuple[Web3, EthereumTester, Deployment]:
    w3, tester = make_w3()
    return (
        w3,
        tester,
        deploy(
            w3,
            UnlockedSender(accounts(w3)[0]),
            bond=ETH,
            challenge_window=0,
            fee_price=FEE_PRICE,
            fee_recipient=FEE_RECIPIENT_ADDRESS,
        ),
    )


def test_deposits_wait_for_their_confirmations(chain: tuple[Web3, EthereumTester, Deployment]) -> None:
    w3, tester, d = chain
    bridge = Bridge(w3, d.bridge)
    user = UnlockedSender(accounts(w3)[2])
    receipt = bridge.deposit(user, b"\x11" * 20, 5)
    source = BridgeDeposits(bridge, confirmations=2, from_block=d.block_number)
    assert source.deposits_from(0) == []
    tester.mine_blocks(1)
    assert source.deposits_from(0) == []
    tester.mine_blocks(1)
    (seen,) = source.deposits_from(0)
    assert (seen.deposit.index, seen.deposit.recipient, seen.deposit.amount) == (0, b"\x11" * 20, 5)
    assert (seen.l1_block, seen.l1_tx_hash) == (receipt["blockNumber"], bytes(receipt["transactionHash"]))
    bridge.deposit(user, b"\x22" * 20, 6)
    immediate = BridgeDeposits(bridge, confirmations=0, from_block=d.block_number)
    assert [x.deposit.amount for x in immediate.deposits_from(0)] == [5, 6]
    assert [x.deposit.index for x in immediate.deposits_from(1)] == [1]
    assert immediate.deposits_from(2) == []


def test_rollup_poster_bonds_posts_reads_back_and_finalizes(
    chain: tuple[Web3, EthereumTester, Deployment],
) -> None:
    w3, _, d = chain
    bridge, rollup = Bridge(w3, d.bridge), Rollup(w3, d.rollup)
    bridge.deposit(UnlockedSender(accounts(w3)[2]), b"\x11" * 20, 5)
    (deposit,) = bridge.deposits_since(d.block_number)
    poster = RollupPoster(rollup, UnlockedSender(accounts(w3)[1]), from_block=d.block_number)
    assert poster.ensure_bonded() and not poster.ensure_bonded()
    timestamp = poster.l1_time()
    result = apply_batch(
        State(), [deposit], [], BatchContext(Domain.from_hex(d.chain_id, d.rollup), FEES, timestamp)
    )
    data = encode_batch(timestamp, [])
    batch = BatchToPost(
        0,
        timestamp,
        data,
        batch_data_hash(BatchHeader(PROTOCOL_VERSION, timestamp, 0), []),
        0,
        0,
        1,
        len(result.steps),
        State().root,
        result.post_root,
        result.trace_root,
    )
    assert poster.posted_count() == 0
    posted = poster.post(batch)
    assert posted.batch_id == 0 and posted.gas_used > 100_000
    assert poster.posted_count() == 1
    onchain = poster.onchain(0)
    assert (onchain.data_hash, onchain.post_root) == (batch.data_hash, batch.post_root)
    assert onchain.posted == posted
    assert poster.finalize() == 1 and rollup.is_finalized(0)
    assert poster.finalize() == 1  # nothing left: no transaction


def test_batcher_answers_a_real_challenge_and_wins_on_timeout(tmp_path: Path) -> None:
    w3, tester = make_w3()
    acc = accounts(w3)
    d = deploy(
        w3,
        UnlockedSender(acc[0]),
        bond=ETH,
        challenge_window=100,
        response_window=30,
        proof_window=30,
        fee_price=FEE_PRICE,
        fee_recipient=FEE_RECIPIENT_ADDRESS,
    )
    bridge, rollup = Bridge(w3, d.bridge), Rollup(w3, d.rollup)
    bridge.deposit(UnlockedSender(acc[2]), b"\x11" * 20, ETH)
    node = Sequencer(make_settings(sqlite_url(tmp_path), chain_id=d.chain_id, rollup_address=d.rollup))
    node.start()
    try:
        builder = BlockBuilder(node)
        assert node.poll_deposits(BridgeDeposits(bridge, confirmations=0, from_block=d.block_number)) == 1
        assert builder.tick() is not None
        builder.seal()
        proposer, challenger = UnlockedSender(acc[1]), UnlockedSender(acc[3])
        poster = RollupPoster(rollup, proposer, from_block=d.block_number)
        batcher = Batcher(node.store, poster, BatcherConfig(poll_s=0), metrics=node.metrics)
        assert [p.batch_id for p in batcher.run_once().posted] == [0]
        rollup.challenge(challenger, 0)
        assert batcher.run_once().revealed == (0,)
        stored = [bytes(s.hash) for s in node.store.steps(0)]
        assert rollup.revealed_steps(0, d.block_number) == stored
        assert status(node, 0) == BatchState.CHALLENGED
        assert batcher.run_once().revealed == ()  # revealed once; the challenger must prove now
        tester.time_travel(poster.l1_time() + 31)  # the challenger never proves
        rollup.settle_timeout(challenger, 0)
        batcher.run_once()
        assert status(node, 0) == BatchState.POSTED
        assert rollup.payout_of(proposer.address) == rollup.challenger_bond()  # the proposer won
        tester.time_travel(poster.l1_time() + 101)
        assert batcher.run_once().finalized_count == 1 and status(node, 0) == BatchState.FINAL
    finally:
        node.close()


def status(node: Sequencer, batch_id: int) -> str:
    row = node.store.batch(batch_id)
    assert row is not None
    return row.status
