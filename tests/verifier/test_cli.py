"""`mlrollup verifier`: its flags and messages, and the command as a process against a devnet (killed
with SIGKILL mid-dispute, restarted, the dispute finished without a second challenge, stopped by
SIGTERM with status 0)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from web3 import HTTPProvider, Web3

from l1_contracts.bindings import Bridge, KeySender, Rollup, append_batch_gas
from l1_contracts.deploy import deploy, save
from l1_contracts.devnet import DevnetServer
from protocol.codec import encode_batch
from protocol.fraud import honest_leaves
from protocol.hashing import keccak
from protocol.signing import Domain
from protocol.state import State
from protocol.transition import BatchContext, apply_batch
from service.recursion import SAFE_RECURSION_LIMIT
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT_ADDRESS, FEES
from verifier.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_help_names_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for flag in (
        "--deployment-file",
        "--l1-rpc-url",
        "--database-url",
        "--challenger-key",
        "--confirmations",
        "--host",
        "--port",
        "MLROLLUP_VERIFIER_",
        "/readyz",
    ):
        assert flag in out, flag


def test_bad_settings_exit_2_with_the_fix(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["--deployment-file", str(tmp_path / "nope.json")])
    assert info.value.code == 2
    assert "does not exist: run `mlrollup deploy`" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["--rollup-address", "0x" + "12" * 20, "--challenger-key", "0x1234"])
    assert info.value.code == 2
    assert "MLROLLUP_VERIFIER_CHALLENGER_KEY: must be a 32-byte" in capsys.readouterr().err
    assert sys.getrecursionlimit() <= SAFE_RECURSION_LIMIT  # capped before anything is parsed


def test_an_unreadable_database_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "db").write_text("not a database")
    code = main(["--rollup-address", "0x" + "12" * 20, "--database-url", f"sqlite:///{tmp_path / 'db'}"])
    assert code == 1 and "cannot open the database" in capsys.readouterr().err


def wait_until(what: str, check: Callable[[], bool], timeout: float = 120.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if check():
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.e2e
def test_the_process_resumes_a_dispute_after_sigkill(tmp_path: Path) -> None:
    with DevnetServer() as devnet:
        accounts = devnet.accounts
        w3 = Web3(HTTPProvider(devnet.url, request_kwargs={"timeout": 60}))
        owner, proposer, poker = (KeySender.from_hex(accounts[i].private_key) for i in (0, 1, 9))
        d = deploy(
            w3,
            owner,
            bond=10**18,
            challenge_window=300,
            response_window=60,
            proof_window=60,
            fee_price=FEE_PRICE,
            fee_recipient=FEE_RECIPIENT_ADDRESS,
        )
        deployment_file = save(d, tmp_path)
        rollup, bridge = Rollup(w3, d.rollup), Bridge(w3, d.bridge)
        rollup.bond(proposer)

        def poke() -> None:  # a block on top, for a verifier one confirmation deep
            bridge.deposit(poker, b"\x11" * 20, 1)

        args = [
            sys.executable,
            "-m",
            "mlrollup",
            "verifier",
            "--deployment-file",
            str(deployment_file),
            "--l1-rpc-url",
            devnet.url,
            "--database-url",
            f"sqlite:///{tmp_path / 'verifier.db'}",
            "--challenger-key",
            accounts[7].private_key,
            "--port",
            str(_free_port()),
            "--poll-interval",
            "0.2",
        ]
        port = args[-3]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLROLLUP_")}

        def start(log: str) -> subprocess.Popen[bytes]:
            out = open(tmp_path / log, "wb")  # noqa: SIM115 - the process writes it until it ends
            return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

        def get(path: str) -> httpx.Response:
            return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=10)

        proc = start("first.log")
        try:
            wait_until("the verifier ready", lambda: get("/readyz").status_code == 200)
            ts = int(w3.eth.get_block("latest")["timestamp"])
            domain = Domain(d.chain_id, bytes.fromhex(d.rollup[2:]))
            result = apply_batch(State(), [], [b"\x01\x02"], BatchContext(domain, FEES, ts))
            data = encode_batch(ts, [b"\x01\x02"])
            rollup.append_batch(
                proposer,
                data,
                State().root,
                keccak(b"forged"),
                result.trace_root,
                0,
                gas=append_batch_gas(data),
            )
            poke()
            wait_until("the challenge", lambda: rollup.get_challenge(0).phase != 0, timeout=60)
            os.kill(proc.pid, signal.SIGKILL)
            assert proc.wait(30) == -signal.SIGKILL

            proc = start("second.log")
            wait_until("the verifier ready again", lambda: get("/readyz").status_code == 200)
            (dispute,) = get("/v1/disputes").json()["disputes"]
            assert dispute["ours"] and dispute["phase"] == "awaiting_reveal"
            rollup.reveal_steps(proposer, 0, honest_leaves(result))
            poke()

            def won() -> bool:
                (d0,) = get("/v1/disputes").json()["disputes"]
                return bool(d0["outcome"] == "won" and d0["txs"]["withdraw"] is not None)

            wait_until("the dispute won and its payout withdrawn", won, timeout=60)
            assert len(rollup.challenges_opened(d.block_number)) == 1  # never challenged twice
            assert rollup.bond_of(proposer.address) == 0
            status = get("/v1/status").json()
            assert status["disputes"] == {"won": 1} and status["disagreements"] == 1
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(60)
        assert code == 0
        first, second = ((tmp_path / n).read_text() for n in ("first.log", "second.log"))
        assert "batch 0 judged wrong (wrong_roots)" in first
        # killed once L1 shows the challenge: before or after it recorded the transaction, the restart
        # sends no second one (it resumes the recorded dispute, or finds its challenge on L1)
        assert "challenged in L1 tx" not in second
        if "batch 0 challenged in L1 tx" not in first:
            assert "batch 0: our challenge is on L1" in second
        for line in (
            "batch 0 revealed: 1 step hashes",
            "batch 0 proof sent: proveBadLastStep",
            "batch 0 dispute won",
        ):
            assert line in second, line
        assert (
            "payout withdrawn: 600000000000000000 wei" in second and "verifier stopped (signal 15)" in second
        )


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
