"""`JsonLimitsMiddleware` on a small FastAPI app: what it refuses, how it answers, what it passes on."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request

from service.asgi import JsonLimitsMiddleware, Scope, checks_depth
from service.errors import BodyRefused

with warnings.catch_warnings():  # starlette asks for httpx2, which the project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

LIMIT = 4_096
DEPTH = 8


@pytest.fixture
def refused() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def client(refused: list[tuple[str, str]]) -> Iterator[TestClient]:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"size": len(body), "json": await request.json() if body[:1] in (b"[", b"{") else None}

    def on_refused(scope: Scope, error: BodyRefused) -> None:
        refused.append((str(scope["path"]), error.code))

    app.add_middleware(JsonLimitsMiddleware, max_bytes=LIMIT, max_depth=DEPTH, on_refused=on_refused)
    with TestClient(app) as c:
        yield c


def padded(size: int) -> bytes:
    """A JSON document of exactly `size` bytes."""
    head, tail = b'{"pad": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def test_a_body_within_the_limits_reaches_the_app_as_it_came(client: TestClient) -> None:
    r = client.post("/echo", content=padded(LIMIT), headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json()["size"] == LIMIT
    deep = b"[" * DEPTH + b"]" * DEPTH
    assert client.post("/echo", content=deep).json()["size"] == len(deep)


def test_one_byte_over_by_content_length(client: TestClient, refused: list[tuple[str, str]]) -> None:
    r = client.post("/echo", content=padded(LIMIT + 1), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json() == {
        "error": {
            "code": "payload_too_large",
            "message": f"the request body exceeds {LIMIT} bytes",
            "limit": LIMIT,
        }
    }
    assert r.headers["connection"] == "close"
    assert refused == [("/echo", "payload_too_large")]


def test_one_byte_over_while_streaming(client: TestClient) -> None:
    def chunks(size: int) -> Iterator[bytes]:  # no Content-Length: counted as it streams
        body = padded(size)
        for start in range(0, len(body), 1_000):
            yield body[start : start + 1_000]

    assert client.post("/echo", content=chunks(LIMIT)).status_code == 200
    r = client.post("/echo", content=chunks(LIMIT + 1))
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_too_deep_is_refused_before_parsing(client: TestClient, refused: list[tuple[str, str]]) -> None:
    for content_type in ("application/json", "text/plain", "application/x-www-form-urlencoded", None):
        headers = {"content-type": content_type} if content_type else {}
        r = client.post("/echo", content=b"[" * (DEPTH + 1) + b"]" * (DEPTH + 1), headers=headers)
        assert r.status_code == 400, content_type
        assert r.json()["error"] == {
            "code": "json_too_deep",
            "message": f"the JSON body nests arrays and objects deeper than {DEPTH} levels",
            "limit": DEPTH,
        }
    assert len(refused) == 4


def test_utf16_json_is_refused(client: TestClient) -> None:
    r = client.post(
        "/echo", content='{"a": 1}'.encode("utf-16"), headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"


def test_binary_bodies_are_only_sized(client: TestClient) -> None:
    deep = b"[" * 100 + b"]" * 100
    r = client.post("/echo", content=deep, headers={"content-type": "application/octet-stream"})
    assert r.status_code == 200  # the app reads it as JSON here, which a real app would not
    r = client.post("/echo", content=b"\x00" * (LIMIT + 1), headers={"content-type": "image/png"})
    assert r.status_code == 413


def test_bodiless_requests_pass(client: TestClient) -> None:
    assert client.get("/nowhere").status_code == 404


@pytest.mark.parametrize(
    ("content_type", "scanned"),
    [
        (None, True),
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("application/vnd.api+json", True),
        ("text/plain", True),
        ("application/x-www-form-urlencoded", True),
        ("Multipart/Form-Data; boundary=x", False),
        ("application/octet-stream", False),
        ("image/png", False),
    ],
)
def test_which_bodies_are_scanned_for_depth(content_type: str | None, scanned: bool) -> None:
    assert checks_depth(content_type) is scanned
