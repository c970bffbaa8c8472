"""A sequencer whose L1 comes back as another chain (the devnet restarted: it keeps its chain in
memory) does not follow it: it keeps every batch and receipt it holds, says why in `/readyz`, and
refuses new txs it could not post. Found by the crash harness's devnet kills (`bench.crash`): the
follower read the empty chain as L1 deleting every batch, rolled them all back and took txs again."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import pytest

from protocol.txs import Transfer
from sequencer.core.errors import ApiError
from tests.sequencer.rig import make_rig
from tests.support.fees import FEE_PRICE
from tests.support.wallets import ETH, Wallet


def test_a_chain_without_the_rollup_is_not_followed(tmp_path: Path) -> None:
    a, b = Wallet.from_seed(41), Wallet.from_seed(42)
    rig = make_rig(tmp_path)
    try:
        rig.fund([a, b])
        raw = a.sign(partial(Transfer, to=b.address, amount=ETH, max_fee_price=FEE_PRICE), rig.domain)
        (sent,) = rig.submit([raw])
        rig.build()
        assert rig.post().posted and rig.follow().rolled_back_to is None
        root, batches = rig.node.head.root, rig.node.store.batches(0, 10)
        head = int(rig.game.w3.eth.block_number)
        rig.game.tester.reset_to_genesis()  # what a devnet restart gives the same URL
        rig.game.tester.mine_blocks(head + 2)  # past the block the follower read last
        rig.follower.start()
        deadline = time.monotonic() + 20
        while rig.node.catching_up is None:
            assert time.monotonic() < deadline, "the sequencer went on as if L1 were its chain"
            time.sleep(0.05)
        assert "no contract at the Rollup's address" in rig.node.catching_up.reason
        assert rig.node.head.root == root  # nothing undone
        assert [x.status for x in rig.node.store.batches(0, 10)] == [x.status for x in batches]
        tx = rig.node.store.tx(sent.hash)
        assert tx is not None and tx.status == "executed"
        later = b.sign(partial(Transfer, to=a.address, amount=1, max_fee_price=FEE_PRICE), rig.domain)
        with pytest.raises(ApiError) as refused:
            rig.submit([later])
        assert refused.value.status == 503
    finally:
        rig.follower.stop()
        rig.close()
