"""Helpers of the end-to-end tests: a whole stack of role processes (`mlrollup.localstack` starts
them), an L2 client over HTTP, and the replay of every batch from L1 data alone
(`mlrollup.replay`, re-exported)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from web3 import Web3

from l1_contracts.bindings.bridge import Bridge
from l1_contracts.bindings.rollup import Rollup
from l1_contracts.bindings.tx import KeySender
from l1_contracts.devnet import dev_accounts
from mlrollup.localstack import StackConfig, start_local_stack
from mlrollup.replay import replay_from_l1
from protocol.signing import Domain
from protocol.txs import Tx
from tests.support.servers import Roles, wait_until
from tests.support.wallets import Wallet

__all__ = ["L2", "Stack", "fund", "replay_from_l1", "start_stack"]


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
    response_window_s: int | None = None,
    sequencer_extra: dict[str, str] | None = None,
    verifier: bool = True,
) -> Stack:
    """devnet → deploy (the default windows unless told) → sequencer with its batcher (dev account 1)
    → verifier (dev account 7 challenges), by `mlrollup.localstack`. Waits until each is ready."""
    local = start_local_stack(
        roles,
        directory,
        StackConfig(
            batch_age_s=batch_age_s,
            challenge_window_s=challenge_window_s,
            response_window_s=response_window_s,
            sequencer_extra=sequencer_extra or {},
            verifier=verifier,
        ),
    )
    return Stack(
        roles,
        directory,
        local.w3,
        local.deployment_file,
        local.deployment,
        local.domain,
        local.rollup,
        local.bridge,
        L2(local.api_url, local.domain),
        local.sequencer_env,
        local.verifier_url,
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
