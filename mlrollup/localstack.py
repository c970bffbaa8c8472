"""A whole local stack as restartable processes, for the end-to-end tests and the benchmarks that
kill and load it: devnet, deployment, sequencer (with its batcher inside, or apart), verifier.

Unlike `mlrollup up` (one long-running stack for a user, fixed ports, stopped by Ctrl-C), each role is
a `mlrollup.processes.Role` that remembers how it started, so a harness can SIGKILL one and start it
again on the same ports, databases and settings. Every server binds 127.0.0.1 on a free port, and
every file goes under the stack's directory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from web3 import HTTPProvider, Web3

from l1_contracts.bindings.bridge import Bridge
from l1_contracts.bindings.rollup import Rollup
from l1_contracts.bindings.tx import KeySender
from l1_contracts.deploy import DEFAULT_RESPONSE_WINDOW, deploy, save
from l1_contracts.devnet import dev_accounts
from mlrollup.processes import START_TIMEOUT_S, Role, Roles, clean_env, free_port, wait_until
from protocol.signing import Domain

DEPLOYER, PROPOSER = 0, 1
BOND = 10**18  # the proposer's, as `mlrollup deploy` and `mlrollup up` default
DEFAULT_CHALLENGE_WINDOW_S = 10  # `mlrollup deploy`'s default
CHALLENGER = 7  # dev accounts 2-6 fund users in the tests (tests/e2e/stack.py::fund)


@dataclass(frozen=True, slots=True)
class StackConfig:
    """How to start the stack; the defaults are the end-to-end tests' quick settings."""

    batch_age_s: float = 1.0
    block_interval_s: float = 0.2
    challenge_window_s: int | None = None  # `mlrollup deploy`'s default (10 s) unless told
    response_window_s: int | None = None  # seconds a challenged proposer has to reveal (deploy's 60 s)
    executor: str = "inline"  # or "process": blocks execute in a worker process, as in production
    batcher_apart: bool = False  # `mlrollup batcher` as a process of its own, instead of --batcher
    verifier: bool = True
    sequencer_extra: Mapping[str, str] = field(default_factory=dict)
    tmpdir: Path | None = None  # TMPDIR of every role (a harness checks what they leave there)


@dataclass
class LocalStack:
    """A deployment on a devnet of its own, with a sequencer, its batcher and a verifier, each a
    process of `roles`. `start_local_stack` starts it; `stop()` stops it."""

    roles: Roles
    directory: Path
    config: StackConfig
    l1_url: str
    api_url: str
    verifier_url: str | None
    w3: Web3
    deployment_file: Path
    deployment: dict[str, Any]
    domain: Domain
    rollup: Rollup
    bridge: Bridge
    sequencer_env: dict[str, str]

    @property
    def from_block(self) -> int:
        """The L1 block the deployment was mined in: where the L1 history of the rollup starts."""
        return int(self.deployment["block_number"])

    def role(self, name: str) -> Role:
        """The running (or last started) process of role `name`: devnet, sequencer, batcher, verifier."""
        return self.roles.latest(name)

    def restart(
        self, name: str, env: Mapping[str, str] | None = None, timeout: float = START_TIMEOUT_S
    ) -> Role:
        """Start role `name` again as it was started (with `env` over its environment), once its
        process has stopped, and wait until it answers `/healthz` (the devnet: a block number). It
        may still be catching up with L1."""
        role = self.roles.restart(self.role(name), env)
        wait_until(f"the restarted {name}", lambda: _answers(self, name, role), timeout=timeout)
        return role

    def ready(self, name: str) -> bool:
        """Whether role `name` says it is ready (`/readyz` 200; the batcher has no API: alive)."""
        if name == "batcher":
            return self.role(name).alive()
        url = {"sequencer": self.api_url, "verifier": self.verifier_url}.get(name)
        if url is None:
            return self.w3.is_connected()
        return httpx.get(f"{url}/readyz", timeout=5).status_code == 200

    def logs(self, tail: int = 6000) -> str:
        """The end of every role's log, for a failure message."""
        return "\n".join(f"----- {p.name} ({p.log})\n{p.output()[-tail:]}" for p in self.roles.started)

    def stop(self) -> None:
        """Stop every role (the last started first)."""
        self.roles.stop_all()


def _answers(stack: LocalStack, name: str, role: Role) -> bool:
    role.check_alive()
    if name == "devnet":
        return stack.w3.is_connected()
    if name == "batcher":
        return True
    url = stack.api_url if name == "sequencer" else stack.verifier_url
    return httpx.get(f"{url}/healthz", timeout=5).status_code == 200


def start_local_stack(roles: Roles, directory: Path, config: StackConfig | None = None) -> LocalStack:
    """devnet → deploy (dev account 0, from this process) → sequencer with its batcher (dev account 1
    proposes) → verifier (dev account 7 challenges). Waits until each is ready; on failure stops
    what started."""
    config = config or StackConfig()
    try:
        return _start(roles, directory, config)
    except BaseException:
        roles.stop_all()
        raise


def _start(roles: Roles, directory: Path, config: StackConfig) -> LocalStack:
    accounts = dev_accounts()
    directory.mkdir(parents=True, exist_ok=True)
    base = {"TMPDIR": str(config.tmpdir)} if config.tmpdir is not None else {}
    l1_port, api_port, verifier_port = free_port(), free_port(), free_port()
    l1_url = f"http://127.0.0.1:{l1_port}"
    roles.start("devnet", ["devnet", "--port", str(l1_port)], clean_env(**base))
    w3 = Web3(HTTPProvider(l1_url, request_kwargs={"timeout": 60}))
    wait_until("the devnet", w3.is_connected, timeout=START_TIMEOUT_S)
    # Deployed from this process (as `mlrollup up` does): one interpreter start less than `mlrollup
    # deploy`, whose command line tests/l1/test_cli_devnet_deploy.py covers.
    deployed = deploy(
        w3,
        KeySender.from_hex(accounts[DEPLOYER].private_key),
        bond=BOND,
        challenge_window=config.challenge_window_s or DEFAULT_CHALLENGE_WINDOW_S,
        response_window=config.response_window_s or DEFAULT_RESPONSE_WINDOW,
    )
    deployment_file = save(deployed, directory / "deployments")
    deployment = json.loads(deployment_file.read_text())
    domain = Domain.from_hex(int(deployment["chain_id"]), deployment["rollup"])
    env = {
        **base,
        "MLROLLUP_DATABASE_URL": f"sqlite:///{directory / 'sequencer.db'}",
        "MLROLLUP_DEPLOYMENT_FILE": str(deployment_file),
        "MLROLLUP_L1_RPC_URL": l1_url,
        "MLROLLUP_PORT": str(api_port),
        "MLROLLUP_BLOCK_INTERVAL_S": str(config.block_interval_s),
        "MLROLLUP_BATCH_MAX_AGE_S": str(config.batch_age_s),
        "MLROLLUP_DEPOSIT_POLL_S": "0.2",
        "MLROLLUP_BATCHER_POLL_S": "0.2",
        "MLROLLUP_EXECUTOR": config.executor,
        "MLROLLUP_BATCHER": "0" if config.batcher_apart else "1",
        "MLROLLUP_PROPOSER_KEY": accounts[PROPOSER].private_key,
        **config.sequencer_extra,
    }
    roles.start("sequencer", ["sequencer"], clean_env(**env))
    if config.batcher_apart:
        roles.start("batcher", ["batcher"], clean_env(**env))
    verifier_url = None
    if config.verifier:
        verifier_url = f"http://127.0.0.1:{verifier_port}"
        verifier_args = ["verifier", "--deployment-file", str(deployment_file), "--l1-rpc-url", l1_url]
        verifier_args += ["--database-url", f"sqlite:///{directory / 'verifier.db'}"]
        verifier_args += ["--challenger-key", accounts[CHALLENGER].private_key, "--port", str(verifier_port)]
        roles.start("verifier", verifier_args, clean_env(**base))
    stack = LocalStack(
        roles,
        directory,
        config,
        l1_url,
        f"http://127.0.0.1:{api_port}",
        verifier_url,
        w3,
        deployment_file,
        deployment,
        domain,
        Rollup(w3, deployment["rollup"]),
        Bridge(w3, deployment["bridge"]),
        env,
    )
    for name in ("sequencer", "verifier") if config.verifier else ("sequencer",):
        role = stack.role(name)

        def ready(name: str = name, role: Role = role) -> bool:
            role.check_alive()
            return stack.ready(name)

        wait_until(f"the {name}", ready, timeout=START_TIMEOUT_S)
    return stack
