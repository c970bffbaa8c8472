"""Roles started as real processes, for the tests and the benchmarks alike: free ports, logs,
readiness waits, SIGKILL and restart, and what a process left behind.

`Roles` starts `python -m mlrollup ROLE …` (the command a user runs) in a directory, each logging to
a file, remembers how it started each one (so a killed role restarts with the same argv and
environment) and stops them all at the end. `tree` and `rss_bytes` read a process and its
descendants with psutil, which is how a harness sees an executor process outlive a killed
sequencer.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 120.0  # importing torch and py-evm takes several seconds on a loaded machine


class LaunchError(AssertionError):
    """A role did not start, died, or a wait ran out; the message names the role and its log.

    An AssertionError, so that a test using these helpers fails (rather than errors) on it, as it
    did when they lived in tests/."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any role setting (`MLROLLUP_*`, `DATABASE_URL`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLROLLUP_") and k != "DATABASE_URL"}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def wait_until(what: str, check: Callable[[], bool], timeout: float = START_TIMEOUT_S) -> None:
    """Poll `check` until it holds (HTTP and OS errors count as not yet); `LaunchError` naming `what`
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        if time.monotonic() > deadline:
            raise LaunchError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def tree(pid: int) -> list[psutil.Process]:
    """The process `pid` and all its descendants (empty if it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def alive(processes: Sequence[psutil.Process]) -> list[psutil.Process]:
    """Those of `processes` still running (a zombie counts as gone: it holds no memory or port)."""
    out = []
    for proc in processes:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                out.append(proc)
        except psutil.NoSuchProcess:
            pass
    return out


def rss_bytes(processes: Sequence[psutil.Process]) -> int:
    """The resident memory of `processes` together (those that are gone count 0)."""
    total = 0
    for proc in processes:
        with suppress(psutil.NoSuchProcess):
            total += int(proc.memory_info().rss)
    return total


def listener_pid(port: int) -> int | None:
    """The process listening on TCP `port` of this machine, if any (as root, or our own)."""
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return int(conn.pid)
    return None


@dataclass
class Role:
    """One role's process, logging to `log`; `argv` and `env` are how it was started."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def check_alive(self) -> None:
        """`LaunchError`, with the role's log, if the process has died."""
        code = self.popen.poll()
        if code is not None:
            raise LaunchError(f"the {self.name} exited with status {code}:\n{self.output()[-4000:]}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        """Signal the process and wait (SIGKILL after `timeout`); its exit status."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return int(self.popen.returncode)

    def kill(self) -> list[psutil.Process]:
        """SIGKILL the process alone (as a crash would: its children get no signal) and reap it;
        returns its descendants as they were just before, for the caller to check."""
        descendants = tree(self.popen.pid)[1:]
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(30)
        return descendants


@dataclass
class Roles:
    """The processes started, in `cwd` (default the repository), logs in `logs`."""

    logs: Path
    cwd: Path = ROOT
    started: list[Role] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> Role:
        """Start `python -m mlrollup *argv`."""
        return self.start_command(name, [sys.executable, "-m", "mlrollup", *argv], env)

    def start_command(self, name: str, command: Sequence[str], env: Mapping[str, str] | None = None) -> Role:
        """Start `command`, its output to a new log file of `logs`."""
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{name}-{len(self.started)}.log"
        environment = dict(env or clean_env())
        with open(log, "wb") as out:  # the child keeps its own descriptor
            popen = subprocess.Popen(
                list(command), cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT, env=environment
            )
        role = Role(name, popen, log, tuple(command), environment)
        self.started.append(role)
        return role

    def restart(self, role: Role, env: Mapping[str, str] | None = None) -> Role:
        """Start `role` again as it was started (after it stopped or was killed), with `env` over
        its environment."""
        if role.alive():
            raise LaunchError(f"the {role.name} is still running: stop or kill it before a restart")
        return self.start_command(role.name, role.command, {**role.env, **(env or {})})

    def latest(self, name: str) -> Role:
        """The role of that name started last."""
        for role in reversed(self.started):
            if role.name == name:
                return role
        raise LaunchError(f"no {name} was started")

    def stop_all(self) -> None:
        """Stop every role, the last started first."""
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
