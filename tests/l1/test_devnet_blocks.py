"""The devnet's block interval: empty blocks while idle, safe beside the JSON-RPC handlers."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from l1_contracts.devnet import DEFAULT_BLOCK_INTERVAL_S, BlockTimer, Devnet, DevnetConfig
from l1_contracts.devnet.cli import _parser
from l1_contracts.errors import DevnetConfigError
from tests.support.servers import roles_in, rpc, start_devnet, wait_until


def head(devnet: Devnet) -> int:
    return int(devnet.request("eth_blockNumber"), 16)


def test_an_idle_block_only_when_the_head_is_older_than_the_clock() -> None:
    devnet = Devnet(DevnetConfig(port=0))
    devnet.request("evm_mine")
    assert not devnet.mine_idle_block()  # the head was stamped this second (or later)
    devnet.request("evm_increaseTime", [hex(5)])
    number = head(devnet)
    assert devnet.mine_idle_block()
    assert head(devnet) == number + 1
    block = devnet.request("eth_getBlockByNumber", ["latest", False])
    assert block["transactions"] == []


def test_no_idle_block_takes_a_pinned_timestamp() -> None:
    devnet = Devnet(DevnetConfig(port=0))
    pinned = int(devnet.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16) + 100
    devnet.request("evm_increaseTime", [hex(10)])
    devnet.request("evm_setNextBlockTimestamp", [hex(pinned)])
    assert not devnet.mine_idle_block()  # the next block's timestamp belongs to the test's own tx
    devnet.request("evm_mine")
    assert int(devnet.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16) == pinned


def test_the_timer_and_transactions_from_many_threads() -> None:
    devnet = Devnet(DevnetConfig(port=0, accounts=4))
    errors: list[BaseException] = []

    def mine_often() -> None:  # the timer's work, made due at every call (blocks of txs take +1 s each)
        devnet.request("evm_increaseTime", [hex(100)])
        devnet.mine_idle_block()

    def send(account: int) -> None:
        try:
            for _ in range(15):
                tx = {
                    "from": devnet.accounts[account].address,
                    "to": devnet.accounts[0].address,
                    "value": "0x1",
                }
                receipt = devnet.request(
                    "eth_getTransactionReceipt", [devnet.request("eth_sendTransaction", [tx])]
                )
                assert receipt["status"] == "0x1"
        except BaseException as exc:
            errors.append(exc)

    timer = BlockTimer(mine_often, 0.005).start()
    try:
        senders = [threading.Thread(target=send, args=(i,)) for i in range(1, 4)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join(120)
    finally:
        timer.stop()
    assert not errors, errors
    blocks = [devnet.request("eth_getBlockByNumber", [hex(n), False]) for n in range(head(devnet) + 1)]
    assert sum(len(b["transactions"]) for b in blocks) == 45
    assert any(not b["transactions"] for b in blocks[1:])  # the timer's empty blocks
    stamps = [int(b["timestamp"], 16) for b in blocks]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    for parent, child in itertools.pairwise(blocks):
        assert child["parentHash"] == parent["hash"]


def test_the_timer_goes_on_after_a_failure() -> None:
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("one bad block")

    timer = BlockTimer(flaky, 0.01).start()
    wait_until("the timer's second call", lambda: len(calls) >= 2, timeout=10)
    timer.stop()
    with pytest.raises(ValueError):
        BlockTimer(flaky, 0)


def test_settings_and_flag() -> None:
    assert DevnetConfig().block_interval_s == 0  # the library's chain moves on demand
    assert (
        _parser().parse_args([]).block_interval == DEFAULT_BLOCK_INTERVAL_S == 1.0
    )  # the command's does not
    with pytest.raises(DevnetConfigError, match="block interval"):
        DevnetConfig(block_interval_s=-1)
    assert "--block-interval" in _parser().format_help()


@pytest.mark.e2e
def test_the_devnet_process_mines_while_idle_by_default(tmp_path: Path) -> None:
    with roles_in(tmp_path) as roles:
        _, url = start_devnet(roles)  # the command's default: an empty block every second
        _, still = start_devnet(roles, "--block-interval", "0")
        first, still_first = int(rpc(url, "eth_blockNumber"), 16), int(rpc(still, "eth_blockNumber"), 16)
        wait_until("two empty blocks", lambda: int(rpc(url, "eth_blockNumber"), 16) >= first + 2, timeout=30)
        time.sleep(1.5)
        assert int(rpc(still, "eth_blockNumber"), 16) == still_first  # 0 turns it off
        block = rpc(url, "eth_getBlockByNumber", ["latest", False])
        assert block["transactions"] == []
