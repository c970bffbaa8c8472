"""The sequencer as a process: JSON nested 100,000 deep and bodies at every size limit get a 4xx
before anything parses them, and the process goes on serving.

The limits come from the settings the process runs with: `max_list_txs` 4, so the body limit (by
default a full list of raw txs of MAX_TX_BYTES) is its floor, one tx in any form (MIN_BODY_BYTES).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from protocol.params import MAX_TX_BYTES
from sequencer.core.config import MIN_BODY_BYTES
from tests.sequencer.helpers import ROLLUP
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT_ADDRESS
from tests.support.servers import (
    RawAnswer,
    Roles,
    post_chunked,
    post_declared,
    post_raw,
    roles_in,
    start_sequencer,
)

pytestmark = pytest.mark.e2e

LIST_TXS = 4


@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Roles]:
    with roles_in(tmp_path_factory.mktemp("sequencer-limits")) as roles:
        yield roles


@pytest.fixture(scope="module")
def url(roles: Roles) -> str:
    settings = {
        "MLROLLUP_DATABASE_URL": f"sqlite:///{roles.logs / 'sequencer.db'}",
        "MLROLLUP_CHAIN_ID": str(DOMAIN.chain_id),
        "MLROLLUP_ROLLUP_ADDRESS": ROLLUP,
        "MLROLLUP_FEE_PRICE": str(FEE_PRICE),
        "MLROLLUP_FEE_RECIPIENT": FEE_RECIPIENT_ADDRESS,
        "MLROLLUP_FOLLOW_L1": "false",  # no L1 here
        "MLROLLUP_MAX_LIST_TXS": str(LIST_TXS),
        "MLROLLUP_EXECUTOR": "inline",
        "MLROLLUP_LOG_LEVEL": "warning",
    }
    return start_sequencer(roles, settings)[1]


@pytest.fixture(scope="module")
def limits(url: str) -> dict[str, int]:
    limits: dict[str, int] = httpx.get(f"{url}/v1/info").json()["limits"]
    assert limits["max_body_bytes"] == MIN_BODY_BYTES and limits["max_list_txs"] == LIST_TXS
    return limits


def still_serving(url: str, roles: Roles) -> None:
    assert all(role.alive() for role in roles.started)
    assert httpx.get(f"{url}/healthz").status_code == 200
    assert httpx.get(f"{url}/v1/info").json()["domain"]["chainId"] == DOMAIN.chain_id


def error_of(answer: RawAnswer) -> dict[str, Any]:
    error: dict[str, Any] = answer.json()["error"]
    assert error["message"]
    return error


def padded_tx(size: int) -> bytes:
    """`{"raw": "0x00"}` padded with whitespace to exactly `size` bytes."""
    return b'{"raw": "0x00"' + b" " * (size - 15) + b"}"


def chunks_of(body: bytes, size: int = 65_536) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_json_nested_100000_deep_gets_a_400(url: str, roles: Roles) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    for path in ("/v1/txs", "/v1/txs/batch"):
        answer = post_raw(url, path, deep)
        assert answer.status == 400
        assert error_of(answer)["code"] == "json_too_deep"
    assert post_chunked(url, "/v1/txs", chunks_of(b'{"raw": ' + b"{" * 100_000)).status == 400
    for content_type in (None, "text/plain"):  # FastAPI and the error handler parse these too
        assert post_raw(url, "/v1/txs", deep, content_type=content_type).status == 400
    still_serving(url, roles)


def test_depth_at_the_limit_is_parsed_and_one_deeper_refused(url: str, roles: Roles) -> None:
    depth = int(httpx.get(f"{url}/v1/info").json()["limits"]["max_json_depth"])
    at = post_raw(url, "/v1/txs", b'{"raw": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}")
    assert at.status == 422 and error_of(at)["code"] == "invalid_request"  # parsed, then refused
    over = post_raw(url, "/v1/txs", b'{"raw": ' + b"[" * depth + b"]" * depth + b"}")
    assert over.status == 400 and error_of(over)["code"] == "json_too_deep"
    still_serving(url, roles)


def test_a_body_at_the_size_limit_passes_and_one_byte_over_gets_a_413(
    url: str, roles: Roles, limits: dict[str, int]
) -> None:
    limit = limits["max_body_bytes"]
    for answer in (
        post_raw(url, "/v1/txs", padded_tx(limit)),
        post_chunked(url, "/v1/txs", chunks_of(padded_tx(limit))),
    ):
        assert (
            answer.status == 400 and error_of(answer)["code"] == "decode_error"
        )  # parsed: the tx is refused
    for answer in (
        post_declared(url, "/v1/txs", limit + 1),
        post_chunked(url, "/v1/txs", chunks_of(padded_tx(limit + 1))),
    ):
        assert answer.status == 413
        assert error_of(answer) == {
            "code": "payload_too_large",
            "message": f"the request body exceeds {limit} bytes",
            "limit": limit,
        }
    still_serving(url, roles)


def test_the_tx_and_list_size_limits(url: str, roles: Roles, limits: dict[str, int]) -> None:
    # txs of MAX_TX_BYTES (undecodable here) pass the size checks, even max_list_txs of them at once
    largest = [{"raw": "0x" + f"{7 + i:02x}" * MAX_TX_BYTES} for i in range(LIST_TXS)]
    full = httpx.post(f"{url}/v1/txs/batch", json={"txs": largest}, timeout=60)
    assert full.status_code == 400 and full.json()["error"]["code"] == "decode_error", full.text[:300]
    too_many = httpx.post(f"{url}/v1/txs/batch", json={"txs": [{"raw": "0x00"}] * (LIST_TXS + 1)})
    assert too_many.status_code == 413 and too_many.json()["error"]["code"] == "too_many_txs"
    too_big = httpx.post(f"{url}/v1/txs", json={"raw": "0x" + "07" * (MAX_TX_BYTES + 1)})
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "tx_too_large"
    still_serving(url, roles)
