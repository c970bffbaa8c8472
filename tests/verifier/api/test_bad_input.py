"""Bad requests on every route of the verifier's API: a body over the limit (declared or streamed),
nested too deep or not UTF-8, and methods a route does not take. Each is a 4xx JSON error with a code
and a message (405 with `Allow`), and the verifier's database is unchanged."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

from verifier.api import create_app
from verifier.api.app import MAX_BODY_BYTES
from verifier.node import VerifierNode

with warnings.catch_warnings():  # starlette asks for httpx2, which the project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


JSON = {"content-type": "application/json"}


def test_bad_requests_on_every_route(node: VerifierNode) -> None:
    node.tick()
    app = create_app(node=node, run_loop=False)
    paths = sorted(p for p, methods in app.openapi()["paths"].items() if "get" in methods)
    assert {"/v1/status", "/v1/batches", "/v1/disputes", "/readyz", "/metrics"} <= set(paths)
    before = (node.store.verdict_counts(), node.store.dispute_counts())

    def streamed() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 4096 + 2):
            yield b" " * 4096

    with TestClient(app) as client:
        for path in paths:
            for method, content, status, code in (
                ("GET", b"x" * (MAX_BODY_BYTES + 1), 413, "payload_too_large"),
                ("GET", streamed(), 413, "payload_too_large"),
                ("GET", b"[" * 10_000 + b"]" * 10_000, 400, "json_too_deep"),
                ("GET", '{"a": 1}'.encode("utf-16"), 400, "malformed_json"),
                ("POST", b"{}", 405, "method_not_allowed"),
                ("DELETE", b"", 405, "method_not_allowed"),
            ):
                r = client.request(
                    method, path, content=content, headers={"content-type": "application/json"}
                )
                assert r.status_code == status, (method, path, r.text[:200])
                error = r.json()["error"]
                assert error["code"] == code and error["message"], (path, error)
                if status == 405:
                    assert "GET" in r.headers["allow"], path
    assert (node.store.verdict_counts(), node.store.dispute_counts()) == before
