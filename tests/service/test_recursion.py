"""`cap_recursion_limit`: lowers what a dependency raised, never raises; py-evm still works under it."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from service.recursion import SAFE_RECURSION_LIMIT, cap_recursion_limit


@pytest.fixture(autouse=True)
def keep_limit() -> Iterator[None]:
    before = sys.getrecursionlimit()
    yield
    sys.setrecursionlimit(before)


def test_lowers_a_raised_limit() -> None:
    import py_ecc  # noqa: F401  # what raises it to 100,000 (through eth-keyfile, web3 and py-evm)

    sys.setrecursionlimit(100_000)
    assert cap_recursion_limit() == SAFE_RECURSION_LIMIT == sys.getrecursionlimit()


def test_never_raises_a_lower_limit() -> None:
    sys.setrecursionlimit(2_000)
    assert cap_recursion_limit() == 2_000


def test_a_deep_parse_is_a_recursion_error_not_a_crash() -> None:
    import json

    cap_recursion_limit()
    with pytest.raises(RecursionError):
        json.loads("[" * 100_000 + "]" * 100_000)


def test_py_evm_reaches_the_call_depth_limit_under_it() -> None:
    """1,024 nested EVM calls (the EVM's limit) need about 7,000 Python frames."""
    from l1_contracts.devnet import Devnet, DevnetConfig

    cap_recursion_limit()
    # runtime: count the frames in storage slot 0, CALL itself with all gas, return the count
    runtime = bytes.fromhex("60005460010160005560006000600060006000305af15060005460005260206000f3")
    init = bytes.fromhex(f"60{len(runtime):02x}600c60003960{len(runtime):02x}6000f3")
    devnet = Devnet(DevnetConfig(port=0, block_gas_limit=10**12))
    sender = devnet.accounts[0].address
    tx = devnet.request("eth_sendTransaction", [{"from": sender, "data": "0x" + (init + runtime).hex()}])
    contract = devnet.request("eth_getTransactionReceipt", [tx])["contractAddress"]
    frames = devnet.request("eth_call", [{"to": contract, "gas": hex(10**12 - 1)}, "latest"])
    assert int(frames, 16) == 1 + 1024  # the outer call and 1,024 nested ones
