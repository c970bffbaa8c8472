"""Roles started as real processes for tests: raw HTTP requests and readiness waits of one role.

`Roles` and the helpers beside it (free ports, waits) live in `mlrollup.processes`, shared with the
benchmarks that start the stack, and are re-exported here; `start_devnet` and `start_sequencer` wait
until the server answers. `post_raw` sends exact bytes (with or without a Content-Length) for the
tests of the request limits, which need bodies no client library would build.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from mlrollup.processes import (
    ROOT,
    START_TIMEOUT_S,
    Role,
    Roles,
    clean_env,
    free_port,
    roles_in,
    wait_until,
)

__all__ = [
    "ROOT",
    "START_TIMEOUT_S",
    "RawAnswer",
    "Role",
    "Roles",
    "clean_env",
    "free_port",
    "post_chunked",
    "post_declared",
    "post_raw",
    "roles_in",
    "rpc",
    "start_devnet",
    "start_sequencer",
    "wait_until",
]


def rpc(url: str, method: str, params: Sequence[Any] = ()) -> Any:
    """One JSON-RPC call; its result, or AssertionError with the error object."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    answer = httpx.post(url, json=body, timeout=60).json()
    assert "result" in answer, answer
    return answer["result"]


def start_devnet(roles: Roles, *flags: str, port: int | None = None) -> tuple[Role, str]:
    """`mlrollup devnet --port P *flags`, once it answers `eth_blockNumber`: the role and its URL."""
    port = port or free_port()
    role = roles.start("devnet", ["devnet", "--port", str(port), *flags])
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        role.check_alive()
        return isinstance(rpc(url, "eth_blockNumber"), str)

    wait_until("the devnet", answers)
    return role, url


def start_sequencer(roles: Roles, settings: Mapping[str, str], *flags: str) -> tuple[Role, str]:
    """`mlrollup sequencer *flags` with `MLROLLUP_*` `settings` (a free port unless one is given),
    once `/readyz` says ready: the role and its URL."""
    env = clean_env(**settings)
    env.setdefault("MLROLLUP_PORT", str(free_port()))
    role = roles.start("sequencer", ["sequencer", *flags], env)
    url = f"http://127.0.0.1:{env['MLROLLUP_PORT']}"

    def ready() -> bool:
        role.check_alive()
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200

    wait_until("the sequencer", ready)
    return role, url


@dataclass(frozen=True)
class RawAnswer:
    """What a server answered to `post_raw`."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def post_raw(url: str, path: str, body: bytes, *, content_type: str | None = "application/json") -> RawAnswer:
    """POST exactly `body` with its Content-Length."""
    return _post(url, path, content_type, {"Content-Length": str(len(body))}, [body])


def post_chunked(
    url: str, path: str, chunks: Iterable[bytes], *, content_type: str | None = "application/json"
) -> RawAnswer:
    """POST `chunks` with `Transfer-Encoding: chunked`: no length, the server counts as it streams."""
    framed = (b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks if chunk)
    return _post(url, path, content_type, {"Transfer-Encoding": "chunked"}, [*framed, b"0\r\n\r\n"])


def post_declared(
    url: str, path: str, length: int, *, content_type: str | None = "application/json"
) -> RawAnswer:
    """Send only the headers of a POST whose Content-Length says `length`, and read the answer: a
    server that checks the length answers before the body comes."""
    return _post(url, path, content_type, {"Content-Length": str(length)}, [])


def _post(
    url: str, path: str, content_type: str | None, headers: dict[str, str], parts: Sequence[bytes]
) -> RawAnswer:
    host, _, port = url.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.putrequest("POST", path, skip_accept_encoding=True)
        for name, value in {**({"Content-Type": content_type} if content_type else {}), **headers}.items():
            connection.putheader(name, value)
        connection.endheaders()
        try:
            for part in parts:
                connection.send(part)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while sending: the answer is already on its way
        response = connection.getresponse()
        return RawAnswer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()
