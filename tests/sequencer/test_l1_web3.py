"""The web3 implementations of the L1 interfaces against the real contracts on py-evm."""

from __future__ import annotations

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
from sequencer.l1 import BatchToPost
from sequencer.l1_web3 import BridgeDeposits, RollupPoster
from tests.l1.chain import make_w3
from tests.protocol.harness import ETH


def accounts(w3: Web3) -> list[str]:
    return [str(a) for a in w3.eth.accounts]


@pytest.fixture
def chain() -> tuple[Web3, EthereumTester, Deployment]:
    w3, tester = make_w3()
    return w3, tester, deploy(w3, UnlockedSender(accounts(w3)[0]), bond=ETH, challenge_window=0)


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
        State(), [deposit], [], BatchContext(Domain.from_hex(d.chain_id, d.rollup), timestamp)
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
