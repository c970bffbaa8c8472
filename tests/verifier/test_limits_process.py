"""The verifier as a process: JSON nested 100,000 deep and bodies at its size limit get a 4xx before
anything parses them, and the process goes on serving (its API only reads, so every body is refused
or ignored; none may crash it)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from web3 import HTTPProvider, Web3

from l1_contracts.bindings.tx import KeySender
from l1_contracts.deploy import deploy, save
from l1_contracts.devnet import dev_accounts
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT_ADDRESS
from tests.support.servers import (
    Roles,
    free_port,
    post_declared,
    post_raw,
    roles_in,
    start_devnet,
    wait_until,
)
from verifier.api.app import MAX_BODY_BYTES

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Roles]:
    with roles_in(tmp_path_factory.mktemp("verifier-limits")) as roles:
        yield roles


@pytest.fixture(scope="module")
def url(roles: Roles) -> str:
    _, l1_url = start_devnet(roles)
    w3 = Web3(HTTPProvider(l1_url, request_kwargs={"timeout": 60}))
    deployment = deploy(
        w3,
        KeySender.from_hex(dev_accounts()[0].private_key),
        bond=10**18,
        challenge_window=10,
        fee_price=FEE_PRICE,
        fee_recipient=FEE_RECIPIENT_ADDRESS,
    )
    deployment_file = save(deployment, roles.logs / "deployments")
    port = free_port()
    argv = ["verifier", "--deployment-file", str(deployment_file), "--l1-rpc-url", l1_url]
    argv += ["--database-url", f"sqlite:///{roles.logs / 'verifier.db'}", "--port", str(port)]
    role = roles.start("verifier", argv)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        role.check_alive()
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200

    wait_until("the verifier", ready)
    return url


def still_serving(url: str, roles: Roles) -> None:
    assert all(role.alive() for role in roles.started)
    assert httpx.get(f"{url}/healthz").status_code == 200
    assert httpx.get(f"{url}/v1/status").json()["connected"] is True


def test_json_nested_100000_deep_gets_a_400(url: str, roles: Roles) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert len(deep) > MAX_BODY_BYTES  # refused for its size before its depth is even scanned
    assert post_raw(url, "/v1/status", deep).status == 413
    shallow_enough = b"[" * 30_000 + b"]" * 30_000  # under the size limit: refused for its depth
    answer = post_raw(url, "/v1/status", shallow_enough)
    assert answer.status == 400 and answer.json()["error"]["code"] == "json_too_deep"
    still_serving(url, roles)


def test_a_body_at_the_size_limit_passes_and_one_byte_over_gets_a_413(url: str, roles: Roles) -> None:
    at = post_raw(url, "/v1/status", b"[" + b" " * (MAX_BODY_BYTES - 2) + b"]")
    assert at.status == 405  # past the guard: the route only reads
    over = post_declared(url, "/v1/status", MAX_BODY_BYTES + 1)
    assert over.status == 413 and over.json()["error"]["code"] == "payload_too_large"
    still_serving(url, roles)
