"""`mlrollup devnet` and `mlrollup deploy` as separate processes; the contracts used from this one.

A deposit, an honest batch with its real roots (a withdrawal inside), the window, finalization and
the withdrawal's claim on L1: all through web3's HTTP provider against the devnet process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from web3 import HTTPProvider, Web3

from l1_contracts.bindings import Bridge, KeySender, Rollup, append_batch_gas
from l1_contracts.deploy import load
from l1_contracts.devnet import dev_accounts
from protocol.codec import encode_batch
from protocol.deposits import Deposit
from protocol.keys import withdrawal_key
from protocol.signing import Domain, sign_tx
from protocol.state import State
from protocol.transition import BatchContext, apply_batch
from protocol.txs import Withdraw
from tests.support.fees import FEE_PRICE, FEES

ETH = 10**18


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli() -> list[str]:
    exe = shutil.which("mlrollup")
    return [exe] if exe else [sys.executable, "-c", "from mlrollup.cli import app; app()"]


@pytest.fixture
def devnet_url() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [*_cli(), "devnet", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if Web3(HTTPProvider(url, request_kwargs={"timeout": 2})).is_connected():
                    break
            except Exception:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "the devnet did not answer within 60 s"
            time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_devnet_and_deploy_processes_then_a_whole_withdrawal(devnet_url: str, tmp_path: Path) -> None:
    deployer, user, proposer = dev_accounts(3)
    env = {**os.environ}
    deployed = subprocess.run(
        [*_cli(), "deploy", "--rpc", devnet_url, "--key", deployer.private_key, "--challenge-window", "2",
         "--out", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    files = list(tmp_path.glob("*.json"))
    assert [f.name for f in files] == ["31337.json"]
    assert json.loads(files[0].read_text())["chain_id"] == 31337
    deployment = load(files[0])

    w3 = Web3(HTTPProvider(devnet_url, request_kwargs={"timeout": 120}))
    rollup, bridge = Rollup(w3, deployment.rollup), Bridge(w3, deployment.bridge)
    user_tx, proposer_tx = KeySender.from_hex(user.private_key), KeySender.from_hex(proposer.private_key)
    user_addr = bytes.fromhex(user.address[2:])

    # L1 deposit, then an L2 batch that consumes it and withdraws part of it
    bridge.deposit(user_tx, user_addr, 3 * ETH)
    (deposit,) = bridge.deposits_since(deployment.block_number)
    assert deposit == Deposit(0, user_addr, 3 * ETH)
    domain = Domain(deployment.chain_id, bytes.fromhex(deployment.rollup[2:]))
    l1_recipient = Account.create().address
    withdraw = sign_tx(
        domain,
        Withdraw(0, bytes.fromhex(l1_recipient[2:]), ETH, max_fee_price=FEE_PRICE),
        bytes.fromhex(user.private_key[2:]),
    )
    timestamp = int(w3.eth.get_block("latest")["timestamp"])
    result = apply_batch(State(), [deposit], [withdraw.encoded], BatchContext(domain, FEES, timestamp))
    assert all(r.success for r in result.receipts)
    data = encode_batch(timestamp, [withdraw.encoded])
    rollup.bond(proposer_tx)
    rollup.append_batch(
        proposer_tx,
        data,
        deployment.genesis_root,
        result.post_root,
        result.trace_root,
        1,
        gas=append_batch_gas(data),
    )
    assert rollup.batch_count() == 1 and rollup.last_root() == result.post_root

    # not final yet: the claim is refused; after the window it pays once
    proof = result.post_state.tree.prove(withdrawal_key(0))
    with pytest.raises(Exception, match="NotFinalized"):
        bridge.claim_withdrawal(user_tx, 0, 0, l1_recipient, ETH, proof)
    time.sleep(2.5)
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    rollup.finalize(proposer_tx)
    assert rollup.is_finalized(0)
    bridge.claim_withdrawal(user_tx, 0, 0, l1_recipient, ETH, proof)
    assert w3.eth.get_balance(l1_recipient) == ETH
    with pytest.raises(Exception, match="AlreadyClaimed"):
        bridge.claim_withdrawal(user_tx, 0, 0, l1_recipient, ETH, proof)
