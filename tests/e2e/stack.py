"""Helpers of the end-to-end tests: a whole stack of role processes (`tests.support.servers` starts
them), an L2 client over HTTP, and the replay of every batch from L1 data alone."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from web3 import HTTPProvider, Web3

from l1_contracts.bindings.bridge import Bridge
from l1_contracts.bindings.rollup import Rollup
from l1_contracts.bindings.tx import KeySender
from l1_contracts.devnet import dev_accounts
from l1_contracts.reader import L1Reader
from protocol.derive import Derivation, Verdict
from protocol.signing import Domain
from protocol.txs import Tx
from tests.protocol.harness import Wallet
from tests.support.servers import START_TIMEOUT_S, Roles, clean_env, free_port, wait_until


class L2:
    """A minimal client of the sequencer API (the SDK is another issue's)."""

    def __init__(self, url: str, domain: Domain, catch_up_timeout: float = 300.0) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self.domain = domain
        self.catch_up_timeout = catch_up_timeout  # how long `send` retries a 503 (catching up)

    def ready(self) -> bool:
        return self.http.get("/readyz").status_code == 200

    def send(self, wallet: Wallet, make: Callable[[int], Tx]) -> str:
        """Sign with `wallet`'s next nonce, submit, and return the tx hash (202 expected)."""
        raw = wallet.sign(make, self.domain)
        deadline = time.monotonic() + self.catch_up_timeout
        while True:
            r = self.http.post("/v1/txs", json={"raw": "0x" + raw.hex()})
            if r.status_code != 503 or time.monotonic() > deadline:
                break
            # catching up with L1 (a dispute in progress): come back when it says
            time.sleep(float(r.headers.get("Retry-After", "1")))
        assert r.status_code == 202, r.text
        return str(r.json()["hash"])

    def receipt(self, tx_hash: str, timeout: float = 90.0) -> dict[str, Any]:
        """Wait for the tx's receipt; fail unless it succeeded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.http.get(f"/v1/txs/{tx_hash}", params={"wait": 5}).json()
            if body.get("receipt") is not None:
                receipt: dict[str, Any] = body["receipt"]
                assert receipt["success"], receipt
                return receipt
        raise AssertionError(f"no receipt for {tx_hash} after {timeout} s")

    def get(self, path: str, **params: Any) -> Any:
        r = self.http.get(path, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def batch_time(self) -> int:
        """The timestamp the txs accepted now execute at (the open batch's, or about now)."""
        return int(time.time())


def replay_from_l1(rollup: Rollup, bridge: Bridge, domain: Domain, from_block: int = 0) -> list[bytes]:
    """Every live batch of the Rollup derived from L1 data alone (`l1_contracts.reader` and
    `protocol.derive`, the code the roles run); each must be VALID. Returns their post roots."""
    reader = L1Reader(rollup, bridge, from_block=from_block, confirmations=0)
    reader.poll()
    chain = Derivation(domain)
    derived = chain.extend(reader.live_batches, reader.deposits)
    assert len(derived) == rollup.batch_count()
    bad = [(d.batch.index, d.verdict, d.reason) for d in derived if d.verdict is not Verdict.VALID]
    assert not bad, f"batches that do not replay to L1's roots: {bad}"
    return [d.batch.post_root for d in derived]


@dataclass
class Stack:
    """A deployment on a devnet of its own, with a sequencer (and its batcher) and a verifier, each a
    process of `roles`. `start_stack` starts it; `roles.stop_all()` stops it."""

    roles: Roles
    directory: Path
    w3: Web3
    deployment_file: Path
    deployment: dict[str, Any]
    domain: Domain
    rollup: Rollup
    bridge: Bridge
    l2: L2
    sequencer_env: dict[str, str]
    verifier_url: str | None

    @property
    def from_block(self) -> int:
        return int(self.deployment["block_number"])

    def verifier(self, path: str) -> Any:
        assert self.verifier_url is not None
        r = httpx.get(self.verifier_url + path, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def logs(self) -> str:
        return "\n".join(f"----- {p.name} ({p.log})\n{p.output()[-6000:]}" for p in self.roles.started)


def start_stack(
    roles: Roles,
    directory: Path,
    *,
    batch_age_s: float = 1.0,
    challenge_window_s: int | None = None,
    sequencer_extra: dict[str, str] | None = None,
    verifier: bool = True,
) -> Stack:
    """devnet → deploy (the default windows unless told) → sequencer with its batcher (dev account 1)
    → verifier (dev account 7 challenges). Waits until each is ready."""
    accounts = dev_accounts()
    l1_port, api_port, verifier_port = free_port(), free_port(), free_port()
    l1_url = f"http://127.0.0.1:{l1_port}"
    roles.start("devnet", ["devnet", "--port", str(l1_port)], clean_env())
    w3 = Web3(HTTPProvider(l1_url, request_kwargs={"timeout": 60}))
    wait_until("the devnet", w3.is_connected, timeout=START_TIMEOUT_S)
    out = directory / "deployments"
    args = ["deploy", "--rpc", l1_url, "--key", accounts[0].private_key, "--out", str(out)]
    if challenge_window_s is not None:
        args += ["--challenge-window", str(challenge_window_s)]
    deploy = roles.start("deploy", args, clean_env())
    assert deploy.popen.wait(START_TIMEOUT_S) == 0, deploy.output()
    deployment_file = out / f"{w3.eth.chain_id}.json"
    deployment = json.loads(deployment_file.read_text())
    domain = Domain.from_hex(int(deployment["chain_id"]), deployment["rollup"])
    env = {
        "MLROLLUP_DATABASE_URL": f"sqlite:///{directory / 'sequencer.db'}",
        "MLROLLUP_DEPLOYMENT_FILE": str(deployment_file),
        "MLROLLUP_L1_RPC_URL": l1_url,
        "MLROLLUP_PORT": str(api_port),
        "MLROLLUP_BLOCK_INTERVAL_S": "0.2",
        "MLROLLUP_BATCH_MAX_AGE_S": str(batch_age_s),
        "MLROLLUP_DEPOSIT_POLL_S": "0.2",
        "MLROLLUP_BATCHER_POLL_S": "0.2",
        "MLROLLUP_EXECUTOR": "inline",
        "MLROLLUP_BATCHER": "1",
        "MLROLLUP_PROPOSER_KEY": accounts[1].private_key,
        **(sequencer_extra or {}),
    }
    roles.start("sequencer", ["sequencer"], clean_env(**env))
    verifier_url = None
    if verifier:
        verifier_url = f"http://127.0.0.1:{verifier_port}"
        roles.start(
            "verifier",
            [
                "verifier",
                "--deployment-file",
                str(deployment_file),
                "--l1-rpc-url",
                l1_url,
                "--database-url",
                f"sqlite:///{directory / 'verifier.db'}",
                "--challenger-key",
                accounts[7].private_key,
                "--port",
                str(verifier_port),
            ],
            clean_env(),
        )
    l2 = L2(f"http://127.0.0.1:{api_port}", domain)
    wait_until("the sequencer", l2.ready, timeout=START_TIMEOUT_S)
    if verifier_url is not None:
        wait_until(
            "the verifier",
            lambda: httpx.get(f"{verifier_url}/readyz", timeout=5).status_code == 200,
            timeout=START_TIMEOUT_S,
        )
    return Stack(
        roles,
        directory,
        w3,
        deployment_file,
        deployment,
        domain,
        Rollup(w3, deployment["rollup"]),
        Bridge(w3, deployment["bridge"]),
        l2,
        env,
        verifier_url,
    )


def fund(stack: Stack, wallets: Sequence[Wallet], amount: int) -> None:
    """Deposit `amount` to each wallet from L1 dev accounts 2…, and wait until L2 credits them."""
    accounts = dev_accounts()
    for i, wallet in enumerate(wallets):
        stack.bridge.deposit(KeySender.from_hex(accounts[2 + i % 5].private_key), wallet.address, amount)
    for wallet in wallets:
        wait_until(
            "the deposits on L2",
            lambda w=wallet: int(stack.l2.get(f"/v1/accounts/0x{w.address.hex()}")["balance"]) >= amount,  # type: ignore[misc]
        )
