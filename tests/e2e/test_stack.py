"""End to end: the roles as separate processes (devnet, deploy, sequencer, batcher) and
`mlrollup up`, driven over HTTP and JSON-RPC like a user would."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from web3 import HTTPProvider, Web3

from l1_contracts.bindings.bridge import Bridge
from l1_contracts.bindings.rollup import Rollup
from l1_contracts.bindings.tx import KeySender
from l1_contracts.devnet import dev_accounts
from protocol import params
from protocol.hashing import keccak
from protocol.models import Arch, validate_spec
from protocol.paper import PAPER_X, PAPER_Y
from protocol.signing import Domain
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, reveal_tx, root_of_test_set
from protocol.txrules import model_commitment
from protocol.txs import (
    AddData,
    CommitModel,
    CreateModel,
    CreateTask,
    FinalizeTask,
    RevealModel,
    Train,
    Transfer,
    Withdraw,
)
from tests.e2e.stack import L2, replay_from_l1
from tests.support.fees import FEE_PRICE
from tests.support.servers import Roles, clean_env, free_port, wait_until
from tests.support.wallets import ETH, Wallet

S = params.FIXED_SCALE
BATCH_AGE_S = 1.0
CHALLENGE_WINDOW_S = 2

pytestmark = pytest.mark.e2e


def sequencer_env(directory: Path, l1_url: str, deployment: Path, port: int) -> dict[str, str]:
    return {
        "MLROLLUP_DATABASE_URL": f"sqlite:///{directory / 'sequencer.db'}",
        "MLROLLUP_DEPLOYMENT_FILE": str(deployment),
        "MLROLLUP_L1_RPC_URL": l1_url,
        "MLROLLUP_PORT": str(port),
        "MLROLLUP_BLOCK_INTERVAL_S": "0.2",
        "MLROLLUP_BATCH_MAX_AGE_S": str(BATCH_AGE_S),
        "MLROLLUP_DEPOSIT_CONFIRMATIONS": "0",
        "MLROLLUP_DEPOSIT_POLL_S": "0.2",
        "MLROLLUP_BATCHER_POLL_S": "0.2",
        "MLROLLUP_EXECUTOR": "inline",
    }


def wait_for_batch_time(after: int) -> None:
    """Sleep until txs accepted now execute at a batch timestamp past `after`."""
    time.sleep(max(0.0, after + 1 + BATCH_AGE_S - time.time()))


def test_roles_apart_end_to_end(tmp_path: Path) -> None:
    roles = Roles(tmp_path)
    try:
        run_end_to_end(roles, tmp_path)
    except BaseException:
        for proc in roles.started:
            print(f"----- {proc.name} ({proc.log})\n{proc.output()[-4000:]}")
        raise
    finally:
        roles.stop_all()
    for proc in roles.started:
        assert proc.popen.returncode in (0, -signal.SIGKILL), f"{proc.name} exited {proc.popen.returncode}"


def run_end_to_end(roles: Roles, tmp_path: Path) -> None:
    accounts = dev_accounts()
    l1_port, api_port = free_port(), free_port()
    l1_url = f"http://127.0.0.1:{l1_port}"
    roles.start("devnet", ["devnet", "--port", str(l1_port)])
    w3 = Web3(HTTPProvider(l1_url, request_kwargs={"timeout": 60}))
    wait_until("the devnet", w3.is_connected, timeout=120)
    deploy = roles.start(
        "deploy",
        [
            "deploy",
            "--rpc",
            l1_url,
            "--key",
            accounts[0].private_key,
            "--challenge-window",
            str(CHALLENGE_WINDOW_S),
            "--out",
            str(tmp_path / "deployments"),
        ],
    )
    assert deploy.popen.wait(120) == 0, deploy.output()
    deployment_file = tmp_path / "deployments" / f"{w3.eth.chain_id}.json"
    deployment = json.loads(deployment_file.read_text())
    domain = Domain.from_hex(int(deployment["chain_id"]), deployment["rollup"])
    rollup, bridge = Rollup(w3, deployment["rollup"]), Bridge(w3, deployment["bridge"])
    env = sequencer_env(tmp_path, l1_url, deployment_file, api_port)
    roles.start("sequencer", ["sequencer"], clean_env(**env))
    batcher_env = {**env, "MLROLLUP_PROPOSER_KEY": accounts[1].private_key}
    roles.start("batcher", ["batcher"], clean_env(**batcher_env))
    l2 = L2(f"http://127.0.0.1:{api_port}", domain)
    wait_until("the sequencer", l2.ready, timeout=120)

    # deposits: four L2 users funded from L1 dev accounts
    users = [Wallet.from_seed(100 + i) for i in range(4)]
    for i, user in enumerate(users):
        bridge.deposit(KeySender.from_hex(accounts[2 + i].private_key), user.address, 10 * ETH)
    for user in users:
        wait_until(
            "the deposits on L2",
            lambda u=user: int(l2.get(f"/v1/accounts/0x{u.address.hex()}")["balance"]) == 10 * ETH,  # type: ignore[misc]
        )
    submitter, miner_a, miner_b, trainer = users

    # a transfer
    l2.receipt(l2.send(miner_a, lambda n: Transfer(n, miner_b.address, ETH, max_fee_price=FEE_PRICE)))

    # a whole competition round: LINREG(d=2) on y = x0 + x1, miner_a exact, miner_b off by S/2
    spec = validate_spec(Arch.LINREG, 2, 0, 0)
    rows = [[i * S, (i % 3) * S] for i in range(150)]
    features, labels = IntTensor.matrix(rows), IntTensor.vector([r[0] + r[1] for r in rows])
    salt = keccak(b"test set salt")
    test_commitment = commitment_to_test_set(root_of_test_set(spec, features, labels), 150, salt)
    now = int(time.time())
    commit_deadline, reveal_deadline = now + 10, now + 22  # room for a loaded CI machine
    receipt = l2.receipt(
        l2.send(
            submitter,
            lambda n: CreateTask(
                n,
                Arch.LINREG,
                2,
                0,
                0,
                2 * ETH,
                commit_deadline,
                reveal_deadline,
                test_commitment,
                keccak(b"d"),
                max_fee_price=FEE_PRICE,
            ),
        )
    )
    task_id = receipt["created_id"]
    weights = {miner_a.address: [S, S, 0], miner_b.address: [S, S, S // 2]}
    salts = {}
    for miner in (miner_a, miner_b):
        salts[miner.address] = keccak(miner.address)
        digest = weights_hash(weights[miner.address])
        c = model_commitment(task_id, miner.address, digest, salts[miner.address])
        l2.receipt(l2.send(miner, lambda n, c=c: CommitModel(n, task_id, c, max_fee_price=FEE_PRICE)))  # type: ignore[misc]
    # meanwhile (the commit deadline passing), a shared model: the paper's regression, one epoch, to the bit
    created = l2.receipt(
        l2.send(
            trainer,
            lambda n: CreateModel(
                n, 1, 1000, IntTensor.vector([10 * 10**7, 2 * 10**7]), max_fee_price=FEE_PRICE
            ),
        )
    )
    model_id = created["created_id"]
    xs, ys = IntTensor.matrix([[x] for x in PAPER_X]), IntTensor.vector(PAPER_Y)
    l2.receipt(l2.send(trainer, lambda n: AddData(n, model_id, xs, ys, max_fee_price=FEE_PRICE)))
    l2.receipt(l2.send(trainer, lambda n: Train(n, model_id, 1, max_fee_price=FEE_PRICE)))
    assert l2.get(f"/v1/models/{model_id}")["weights"] == [100262000, 3420000]

    wait_for_batch_time(commit_deadline)
    l2.receipt(
        l2.send(
            submitter, lambda n: reveal_tx(spec, task_id, salt, features, labels, n, max_fee_price=FEE_PRICE)
        )
    )
    for miner in (miner_a, miner_b):
        w, s = IntTensor.vector(weights[miner.address]), salts[miner.address]
        scored = l2.receipt(
            l2.send(miner, lambda n, w=w, s=s: RevealModel(n, task_id, s, w, max_fee_price=FEE_PRICE))  # type: ignore[misc]
        )
        assert scored["last_step"] - scored["first_step"] == 3  # the tx and 3 scoring chunks of 64

    # meanwhile (the reveal deadline passing), a withdrawal, claimed on L1 once its batch is final
    recipient = accounts[8].address
    withdrawn = l2.receipt(
        l2.send(miner_b, lambda n: Withdraw(n, bytes.fromhex(recipient[2:]), ETH, max_fee_price=FEE_PRICE))
    )
    withdrawal_id = withdrawn["created_id"]
    wait_until(
        "the withdrawal's batch to be final",
        lambda: l2.http.get(f"/v1/withdrawals/{withdrawal_id}/proof").status_code == 200,
        timeout=150,
    )
    proof = l2.get(f"/v1/withdrawals/{withdrawal_id}/proof")
    l1_before = w3.eth.get_balance(recipient)  # type: ignore[arg-type]
    bridge.claim_withdrawal(
        KeySender.from_hex(accounts[9].private_key),
        proof["batch"],
        withdrawal_id,
        recipient,
        int(proof["amount"]),
        bytes.fromhex(proof["proof"][2:]),
    )
    assert w3.eth.get_balance(recipient) == l1_before + ETH  # type: ignore[arg-type]
    assert bridge.is_claimed(withdrawal_id)

    wait_for_batch_time(reveal_deadline)
    before = int(l2.get(f"/v1/accounts/0x{miner_a.address.hex()}")["balance"])
    l2.receipt(l2.send(trainer, lambda n: FinalizeTask(n, task_id, max_fee_price=FEE_PRICE)))
    task = l2.get(f"/v1/tasks/{task_id}")
    assert task["finalized"] and task["best"]["miner"].lower() == "0x" + miner_a.address.hex()
    assert int(l2.get(f"/v1/accounts/0x{miner_a.address.hex()}")["balance"]) == before + 2 * ETH

    # a killed sequencer loses no acknowledged tx, and its state is L1's
    acked = l2.send(miner_b, lambda n: Transfer(n, submitter.address, 1, max_fee_price=FEE_PRICE))
    sequencer = next(p for p in roles.started if p.name == "sequencer")
    sequencer.stop(signal.SIGKILL)
    roles.start("sequencer", ["sequencer"], clean_env(**env))
    wait_until("the restarted sequencer", l2.ready, timeout=120)
    l2.receipt(acked)
    wait_until("every batch on L1", lambda: all_posted(l2, rollup), timeout=150)
    roots = replay_from_l1(rollup, bridge, domain, int(deployment["block_number"]))
    last = l2.get(f"/v1/batches/{len(roots) - 1}")
    assert bytes.fromhex(last["post_root"][2:]) == roots[-1]
    assert l2.get("/v1/state/root")["current"]["root"] == last["post_root"]
    batches = [l2.get(f"/v1/batches/{i}") for i in range(len(roots))]
    gas = [b["l1"]["gas_used"] for b in batches]
    assert all(g > 0 for g in gas)
    txs = sum(b["tx_count"] for b in batches)
    print(  # the figures docs/results.md quotes (pytest -s)
        f"\n{len(roots)} batches on L1 replayed from L1 data: {txs} txs, "
        f"{sum(b['deposit_count'] for b in batches)} deposits, "
        f"{sum(b['step_count'] for b in batches)} steps, "
        f"{sum(gas):,} gas for appendBatch in all ({min(gas):,}-{max(gas):,} a batch)"
    )


def all_posted(l2: L2, rollup: Rollup) -> bool:
    """Nothing pending, no open batch, and L1 holds every sealed batch."""
    root = l2.get("/v1/state/root")
    sealed = root["sealed"]
    if sealed is None or sealed["root"] != root["current"]["root"] or l2.get("/readyz")["mempool"]:
        return False
    return bool(rollup.batch_count() == sealed["batch"] + 1)


def test_up_runs_the_stack_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    roles = Roles(tmp_path)
    l1_port, api_port, verifier_port = free_port(), free_port(), free_port()
    up = roles.start(
        "up",
        [
            "up",
            "--data-dir",
            str(tmp_path / "up"),
            "--l1-port",
            str(l1_port),
            "--port",
            str(api_port),
            "--verifier-port",
            str(verifier_port),
            "--challenge-window",
            "1",
            "--batch-max-age",
            "0.5",
        ],
    )
    try:
        wait_until("the banner", lambda: "Ctrl-C stops" in up.output(), timeout=180)
        text = up.output()
        deployment = json.loads((tmp_path / "up" / "deployments" / "31337.json").read_text())
        assert deployment["rollup"] in text and deployment["bridge"] in text
        assert dev_accounts()[2].private_key in text  # keys printed whole
        w3 = Web3(HTTPProvider(f"http://127.0.0.1:{l1_port}"))
        domain = Domain.from_hex(31337, deployment["rollup"])
        l2 = L2(f"http://127.0.0.1:{api_port}", domain)
        assert l2.get("/v1/info")["settings"]["chain_id"] == 31337
        user = Wallet.from_seed(7)
        bridge = Bridge(w3, deployment["bridge"])
        bridge.deposit(KeySender.from_hex(dev_accounts()[3].private_key), user.address, ETH)
        wait_until(
            "the deposit's batch to be final on L1",
            lambda: Rollup(w3, deployment["rollup"]).finalized_count() >= 1,
        )
        assert int(l2.get(f"/v1/accounts/0x{user.address.hex()}")["balance"]) == ETH
        # the verifier watches, judged the batch valid, and its URL is in the banner
        verifier_url = f"http://127.0.0.1:{verifier_port}"
        assert verifier_url in text
        wait_until(
            "the verifier judging the batch",
            lambda: httpx.get(f"{verifier_url}/v1/status").json()["latest_checked"] is not None,
        )
        status = httpx.get(f"{verifier_url}/v1/status").json()
        assert status["disagreements"] == 0 and status["challenger"] == dev_accounts()[2].address, status
    finally:
        code = up.stop(signal.SIGINT)
    assert code == 0, up.output()
    assert "stopped" in up.output()
    for port in (l1_port, api_port, verifier_port):  # the children are gone: nothing listens on their ports
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not a listener
            s.bind(("127.0.0.1", port))
