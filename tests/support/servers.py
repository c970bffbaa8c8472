"""Roles started as real processes for tests: free ports, logs, readiness waits, raw HTTP requests.

`Roles` starts `python -m mlrollup ROLE …` (the command a user runs) in a directory of the test's,
each logging to a file, and stops them all at the end; `start_devnet` and `start_sequencer` wait
until the server answers. `post_raw` sends exact bytes (with or without a Content-Length) for the
tests of the request limits, which need bodies no client library would build.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120.0  # importing torch and py-evm takes several seconds on a loaded machine


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any sequencer setting (`MLROLLUP_*`, `DATABASE_URL`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLROLLUP_") and k != "DATABASE_URL"}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def wait_until(what: str, check: Callable[[], bool], timeout: float = START_TIMEOUT_S) -> None:
    """Poll `check` until it holds; fail the test naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


@dataclass
class Role:
    """One role's process, logging to `log`."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def check_alive(self) -> None:
        """Fail the test, with the role's log, if the process has died."""
        code = self.popen.poll()
        if code is not None:
            raise AssertionError(f"the {self.name} exited with status {code}:\n{self.output()[-4000:]}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return int(self.popen.returncode)


@dataclass
class Roles:
    """The processes a test started, in `cwd` (default the repository), logs in `logs`."""

    logs: Path
    cwd: Path = ROOT
    started: list[Role] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> Role:
        """Start `python -m mlrollup *argv`."""
        return self.start_command(name, [sys.executable, "-m", "mlrollup", *argv], env)

    def start_command(self, name: str, command: Sequence[str], env: Mapping[str, str] | None = None) -> Role:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{name}-{len(self.started)}.log"
        with open(log, "wb") as out:  # the child keeps its own descriptor
            popen = subprocess.Popen(
                list(command),
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env or clean_env()),
            )
        role = Role(name, popen, log)
        self.started.append(role)
        return role

    def stop_all(self) -> None:
        for role in reversed(self.started):
            role.stop()


@contextmanager
def roles_in(logs: Path, cwd: Path = ROOT) -> Iterator[Roles]:
    """`Roles` stopped when the block ends, whatever happens inside it."""
    roles = Roles(logs, cwd)
    try:
        yield roles
    finally:
        roles.stop_all()


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
