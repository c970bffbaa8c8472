"""Bad bodies on every POST route of the sequencer: too large (declared or streamed), too deep,
not UTF-8, not JSON, the wrong content type, numbers no parser should take, tensors over the
limits. Each is refused with a 4xx JSON error that names its code and says what to change, and
nothing is stored (the mempool, the database's txs and the pending state are unchanged)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from protocol import params
from sequencer.core.config import MIN_BODY_BYTES
from sequencer.main import create_app
from tests.sequencer.api.conftest import Chain
from tests.sequencer.helpers import FakeClock, fund, make_settings, sqlite_url
from tests.support.wallets import Wallet

JSON = {"content-type": "application/json"}


@pytest.fixture
def small(tmp_path: Path, clock: FakeClock, wallets: list[Wallet]) -> Iterator[tuple[TestClient, Chain]]:
    """An app with the smallest body limit allowed (it still admits one tx in any form)."""
    settings = make_settings(sqlite_url(tmp_path, "small.db"), max_body_bytes=MIN_BODY_BYTES)
    app = create_app(settings, clock=clock, run_builder=False)
    with TestClient(app) as client:
        chain = Chain(app, wallets)
        fund(chain.node, chain.builder, wallets[:2])
        yield client, chain


def post_routes(app: FastAPI) -> list[str]:
    """Every POST route the app documents (FastAPI nests included routers: read its schema)."""
    return sorted(path for path, methods in app.openapi()["paths"].items() if "post" in methods)


def snapshot(chain: Chain) -> tuple[int, int, bytes]:
    node = chain.node
    return node.store.max_seq(), len(node.mempool), node.mempool.state.root


def refused(client: TestClient, chain: Chain, path: str, status: int, code: str, **kw: Any) -> str:
    """POST to `path`, expect `status` and `code` in the error shape, and nothing stored."""
    before = snapshot(chain)
    r = client.post(path, **kw)
    assert r.status_code == status, (path, r.text[:300])
    assert r.headers["content-type"].startswith("application/json")
    error = r.json()["error"]
    assert error["code"] == code, (path, error)
    assert len(error["message"]) > 20
    assert snapshot(chain) == before, f"{path}: a refused body stored something"
    return str(error["message"])


def test_every_post_route_is_covered(app: FastAPI) -> None:
    assert post_routes(app) == ["/v1/fees/estimate", "/v1/txs", "/v1/txs/batch"]


def test_bodies_over_the_size_limit(small: tuple[TestClient, Chain]) -> None:
    client, chain = small
    limit = chain.node.settings.max_body_bytes

    def streamed() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"raw": "0x'
        for _ in range(limit // 65_536 + 2):
            yield b"00" * 32_768
        yield b'"}'

    for path in post_routes(client.app):  # type: ignore[arg-type]
        big = b'{"raw": "0x' + b"00" * (limit // 2 + 1) + b'"}'
        message = refused(client, chain, path, 413, "payload_too_large", content=big, headers=JSON)
        assert str(limit) in message
        refused(client, chain, path, 413, "payload_too_large", content=streamed(), headers=JSON)


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (DEEP, "application/json", 400, "json_too_deep"),
        (DEEP, "text/plain", 400, "json_too_deep"),
        (DEEP, "application/octet-stream", 400, "json_too_deep"),  # not scanned on the way in
        (DEEP, None, 400, "json_too_deep"),
        ('{"raw": "0x01"}'.encode("utf-16"), "application/json", 400, "malformed_json"),
        (b'{"raw": "\xff\xfe"}', "application/json", 400, "malformed_json"),  # not UTF-8
        (b'{"raw": ' + b"9" * 5_000 + b"}", "application/json", 400, "malformed_json"),  # 5,000 digits
        (b'{"raw": 0x01', "application/json", 400, "malformed_json"),
        (b"not json", "text/plain", 400, "malformed_json"),
        (b"raw=0x01", "application/x-www-form-urlencoded", 400, "malformed_json"),
        (
            b'--x\r\nContent-Disposition: form-data; name="raw"\r\n\r\n0x01\r\n--x--\r\n',
            "multipart/form-data; boundary=x",
            400,
            "malformed_json",
        ),
        (b'{"raw": "0x01"}', "text/plain", 422, "invalid_request"),  # JSON, but not labelled so
        (b'{"raw": "0x01"}', "application/octet-stream", 422, "invalid_request"),
        (b"", "application/json", 422, "invalid_request"),
        (b"null", "application/json", 422, "invalid_request"),
        (b'"0x01"', "application/json", 422, "invalid_request"),
        (b'{"raw": NaN}', "application/json", 422, "invalid_request"),
        (b'{"raw": "0x01", "raw": 5}', "application/json", 422, "invalid_request"),
        (b'{"raw": "0x01", "types": null}', "application/json", 422, "invalid_request"),  # given or left out
    ],
)
def test_malformed_bodies_on_every_post_route(
    client: TestClient, chain: Chain, content: bytes, content_type: str | None, status: int, code: str
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    for path in post_routes(client.app):  # type: ignore[arg-type]
        refused(client, chain, path, status, code, content=content, headers=headers)


def test_tensors_and_txs_over_the_limits_on_every_post_route(client: TestClient, chain: Chain) -> None:
    # The fields are read in order: the tensor is refused before the fields after it are looked at.
    xs = [[1]] * (params.MAX_TENSOR_ELEMENTS + 1)
    body = {"type": "AddData", "message": {"nonce": 0, "modelId": 0, "xs": xs}, "signature": "0x" + "11" * 65}
    too_long = {"raw": "0x05" + "00" * params.MAX_TX_BYTES}
    for path in post_routes(client.app):  # type: ignore[arg-type]
        wrap = (lambda b: {"txs": [b]}) if path.endswith("/batch") else (lambda b: b)
        refused(client, chain, path, 413, "tensor_too_large", json=wrap(body))
        refused(client, chain, path, 413, "tx_too_large", json=wrap(too_long))
