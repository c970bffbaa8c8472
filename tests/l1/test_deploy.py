"""Deployment: deploy + save + load round trip, and `python -m l1_contracts.deploy` over HTTP JSON-RPC
(the devnet's server in a thread)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web3 import HTTPProvider, Web3

from l1_contracts import errors
from l1_contracts.bindings import Bridge, KeySender, Rollup, UnlockedSender
from l1_contracts.deploy import Deployment, DeploymentError, deploy, load, main, save
from l1_contracts.devnet import DevnetConfig, DevnetServer
from protocol.codec import encode_batch
from protocol.deposits import Deposit
from protocol.hashing import keccak
from protocol.state import State
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT_ADDRESS
from tests.support.l1 import make_w3

DEV_KEY = keccak(b"deploy test key")


def test_deploy_save_load_round_trip(tmp_path: Path) -> None:
    w3, _ = make_w3()
    sender = UnlockedSender(w3.eth.accounts[0])
    root = keccak(b"genesis")
    d = deploy(
        w3,
        sender,
        bond=3 * 10**18,
        challenge_window=42,
        genesis_root=root,
        fee_price=FEE_PRICE,
        fee_recipient=FEE_RECIPIENT_ADDRESS,
    )
    assert d.chain_id == w3.eth.chain_id and d.deployer == sender.address
    assert (d.bond, d.challenge_window, d.genesis_root) == (3 * 10**18, 42, root)
    rollup, bridge = Rollup(w3, d.rollup), Bridge(w3, d.bridge)
    assert (rollup.bridge_address(), bridge.rollup_address()) == (d.bridge, d.rollup)
    assert (rollup.bond_amount(), rollup.challenge_window(), rollup.genesis_root()) == (3 * 10**18, 42, root)
    assert d.block_number <= w3.eth.block_number and w3.eth.get_code(Web3.to_checksum_address(d.bridge))
    path = save(d, tmp_path / "deployments")
    assert path == tmp_path / "deployments" / f"{d.chain_id}.json"
    stored = json.loads(path.read_text())
    assert stored["bond"] == str(3 * 10**18) and stored["genesis_root"] == "0x" + root.hex()
    assert load(path) == d
    assert Deployment.from_json(d.to_json()) == d


def test_default_genesis_is_the_empty_state() -> None:
    w3, _ = make_w3()
    d = deploy(
        w3,
        UnlockedSender(w3.eth.accounts[0]),
        bond=1,
        challenge_window=0,
        fee_price=FEE_PRICE,
        fee_recipient=FEE_RECIPIENT_ADDRESS,
    )
    assert d.genesis_root == State().root
    assert Rollup(w3, d.rollup).genesis_root() == State().root


def test_load_rejects_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("[1, 2]")
    with pytest.raises(DeploymentError):
        load(bad)
    bad.write_text('{"chain_id": 1}')
    with pytest.raises(DeploymentError):
        load(bad)
    with pytest.raises(DeploymentError):
        load(tmp_path / "missing.json")


# --- the command line over HTTP ------------------------------------------------------------------


def test_main_deploys_over_http(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m l1_contracts.deploy` against the devnet's JSON-RPC server, then the bindings over HTTP,
    signing locally (`KeySender`): deposits, a batch, a revert decoded from the node's error data."""
    out = tmp_path / "deployments"
    with DevnetServer(DevnetConfig(port=0, chain_id=31337)) as node:
        key = node.accounts[0].private_key
        argv = [
            "--rpc",
            node.url,
            "--key",
            key,
            "--bond-eth",
            "0.5",
            "--challenge-window",
            "7",
            "--out",
            str(out),
        ]
        assert main(argv) == 0, capsys.readouterr().err
        assert "wrote" in capsys.readouterr().out
        d = load(out / "31337.json")
        assert d.chain_id == 31337 and d.deployer == node.accounts[0].address
        assert (d.bond, d.challenge_window, d.genesis_root) == (5 * 10**17, 7, State().root)
        w3 = Web3(HTTPProvider(node.url))
        rollup, bridge = Rollup(w3, d.rollup), Bridge(w3, d.bridge)
        assert rollup.bond_amount() == 5 * 10**17 and bridge.rollup_address() == d.rollup
        user = KeySender.from_hex(node.accounts[1].private_key)
        bridge.deposit(user, user.address, 10**18)
        assert bridge.deposits_since(d.block_number) == [Deposit(0, bytes.fromhex(user.address[2:]), 10**18)]
        with pytest.raises(errors.NotBonded):
            rollup.append_batch(
                user, encode_batch(0, [b"\x01"]), State().root, keccak(b"p"), keccak(b"t"), 1, gas=300_000
            )
        rollup.bond(user)
        rollup.append_batch(
            user, encode_batch(0, [b"\x01"]), State().root, keccak(b"p"), keccak(b"t"), 1, gas=300_000
        )
        assert rollup.get_batch(0).deposit_rolling_hash == bridge.rolling_hash(1)
        assert [a.index for a in rollup.batches_appended(d.block_number)] == [0]


def test_main_reports_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--rpc", "http://127.0.0.1:9", "--key", "0x" + DEV_KEY.hex(), "--out", str(tmp_path)])
    assert code == 1
    assert "deploy failed" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--rpc", "http://127.0.0.1:9", "--key", "0x" + DEV_KEY.hex(), "--bond-eth", "-1"])
