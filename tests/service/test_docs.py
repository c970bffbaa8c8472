"""`/docs` works offline: the page of both apps references only assets the app serves itself."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI

with warnings.catch_warnings():  # starlette asks for httpx2, which the project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from sequencer.main import create_app as create_sequencer_app
from service.docs import install_docs
from tests.l1.game import make_game
from tests.sequencer.helpers import FakeClock, make_settings, sqlite_url
from tests.verifier.support import make_node
from verifier.api import create_app as create_verifier_app

URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|\burl\s*:\s*["']([^"']+)["']""")


@pytest.fixture
def sequencer_client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_sequencer_app(make_settings(sqlite_url(tmp_path)), clock=FakeClock(), run_builder=False)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def verifier_client(tmp_path: Path) -> Iterator[TestClient]:
    node = make_node(make_game(), tmp_path)
    try:
        with TestClient(create_verifier_app(node=node, run_loop=False)) as c:
            yield c
    finally:
        node.close()


def check_docs_offline(client: TestClient) -> list[str]:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "swagger" in page.text.lower()
    urls = [a or b for a, b in URL.findall(page.text)]
    assert not re.search(r"https?://", page.text), "the page names another host"
    assets = [u for u in urls if u != "/openapi.json" and not u.startswith("/docs/oauth2")]
    assert {"/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css"} <= set(assets)
    for url in urls:
        assert not urlsplit(url).netloc, url
        assert url.startswith("/"), url
    for url in assets:
        got = client.get(url)
        assert got.status_code == 200, url
        assert got.content, url
    assert client.get("/openapi.json").json()["paths"]
    assert client.get("/docs/oauth2-redirect").status_code == 200
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs/static/no-such-file.js").status_code == 404
    return assets


def test_sequencer_docs_are_served_offline(sequencer_client: TestClient) -> None:
    assets = check_docs_offline(sequencer_client)
    js = sequencer_client.get("/docs/static/swagger-ui-bundle.js")
    assert "javascript" in js.headers["content-type"]
    assert len(js.content) > 100_000  # the real bundle, not a stub
    assert "/docs/static/favicon-32x32.png" in assets


def test_verifier_docs_are_served_offline(verifier_client: TestClient) -> None:
    check_docs_offline(verifier_client)


def test_install_docs_refuses_an_app_with_fastapis_own_page() -> None:
    with pytest.raises(ValueError, match="docs_url=None"):
        install_docs(FastAPI())
