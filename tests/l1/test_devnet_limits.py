"""The devnet process refuses over-deep and over-large JSON-RPC bodies with a 4xx and goes on serving;
its default body limit admits the largest transaction a block holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from l1_contracts.devnet import FLOOR_GAS_PER_BYTE, TX_BASE_GAS, default_max_body_bytes, dev_accounts
from tests.support.servers import Roles, post_declared, post_raw, roles_in, rpc, start_devnet

pytestmark = pytest.mark.e2e

LIMIT = 2**20
DEPTH = 16
BLOCK_NUMBER = b'{"jsonrpc": "2.0", "id": 7, "method": "eth_blockNumber", "params": []}'


@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Roles]:
    with roles_in(tmp_path_factory.mktemp("devnet-limits")) as roles:
        yield roles


@pytest.fixture(scope="module")
def url(roles: Roles) -> str:
    flags = ["--max-body-bytes", str(LIMIT), "--max-json-depth", str(DEPTH), "--block-interval", "0"]
    return start_devnet(roles, *flags)[1]


def still_serving(url: str, roles: Roles) -> None:
    assert all(role.alive() for role in roles.started)
    assert rpc(url, "eth_chainId") == hex(31337)


def padded(size: int) -> bytes:
    """An eth_blockNumber request of exactly `size` bytes (whitespace is JSON)."""
    return BLOCK_NUMBER[:-1] + b" " * (size - len(BLOCK_NUMBER)) + b"}"


def nested_request(depth: int) -> bytes:
    """A request whose JSON nests `depth` deep: the object, `params`, then arrays inside it."""
    inner = depth - 2
    return b'{"jsonrpc": "2.0", "id": 7, "method": "eth_blockNumber", "params": [' + (
        b"[" * inner + b"]" * inner + b"]}"
    )


def test_json_nested_100000_deep_gets_a_400(url: str, roles: Roles) -> None:
    answer = post_raw(url, "/", b"[" * 100_000 + b"]" * 100_000)
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["code"] == -32700 and error["data"] == {"reason": "json_too_deep", "limit": DEPTH}
    assert post_raw(url, "/", b'{"a":' * 100_000).status == 400  # never closed
    still_serving(url, roles)


def test_depth_at_the_limit_is_parsed_and_one_deeper_refused(url: str, roles: Roles) -> None:
    answer = post_raw(url, "/", nested_request(DEPTH))
    assert answer.status == 200 and answer.json()["id"] == 7  # parsed (the provider may dislike params)
    assert post_raw(url, "/", nested_request(DEPTH + 1)).status == 400
    still_serving(url, roles)


def test_a_body_at_the_size_limit_passes_and_one_byte_over_gets_a_413(url: str, roles: Roles) -> None:
    answer = post_raw(url, "/", padded(LIMIT))
    assert answer.status == 200 and answer.json()["result"].startswith("0x")
    over = post_declared(url, "/", LIMIT + 1)  # refused from its Content-Length, before the body
    assert over.status == 413
    error = over.json()["error"]
    assert error["code"] == -32600 and error["data"] == {"reason": "payload_too_large", "limit": LIMIT}
    still_serving(url, roles)


def test_utf16_json_is_refused(url: str, roles: Roles) -> None:
    answer = post_raw(url, "/", BLOCK_NUMBER.decode().encode("utf-16"))
    assert answer.status == 400 and answer.json()["error"]["data"]["reason"] == "malformed_json"
    still_serving(url, roles)


def test_the_default_limit_admits_the_largest_transaction(tmp_path: Path) -> None:
    gas_limit = 30_000_000
    data = b"\x00" * ((gas_limit - TX_BASE_GAS) // FLOOR_GAS_PER_BYTE)  # all the gas EIP-7623's floor allows
    sender, receiver = dev_accounts(2)
    signed = Account.sign_transaction(
        {
            "type": 2,
            "chainId": 31337,
            "nonce": 0,
            "to": receiver.address,
            "value": 0,
            "data": data,
            "gas": gas_limit,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
        },
        sender.private_key,
    )
    body = (
        b'{"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": ["0x'
        + bytes(signed.raw_transaction).hex().encode()
        + b'"]}'
    )
    limit = default_max_body_bytes(gas_limit)
    assert len(body) <= limit
    with roles_in(tmp_path) as roles:
        url = start_devnet(roles, "--block-gas-limit", str(gas_limit), "--block-interval", "0")[1]
        answer = post_raw(url, "/", body)
        assert answer.status == 200, answer.body[:300]
        tx_hash = answer.json()["result"]
        receipt = rpc(url, "eth_getTransactionReceipt", [tx_hash])
        assert receipt["status"] == "0x1" and int(receipt["gasUsed"], 16) == gas_limit
        assert post_declared(url, "/", limit + 1).status == 413
        still_serving(url, roles)
