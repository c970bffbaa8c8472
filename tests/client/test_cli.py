"""The user commands of `mlrollup` through typer's CliRunner: units and errors without a server, and
every command against the running stack (tables and `--json`), from the mounted `mlrollup` app."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from client.cli import parse_amount
from client.sdk import Client
from l1_contracts.devnet import dev_accounts
from mlrollup.cli import app
from protocol.hashing import keccak
from protocol.models import Arch, validate_spec
from protocol.signing import to_checksum_address
from tests.client.conftest import ClientStack
from tests.support.wallets import ETH, Wallet

runner = CliRunner()
L1_KEY = dev_accounts()[8].private_key  # pays the L1 gas of deposit and claim (after test_l1's use)
COMMANDS = ("account", "fees", "deposit", "transfer", "withdraw", "claim", "tx", "task", "model", "batches")


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, list(args), env=env)


def as_json(*args: str, env: dict[str, str] | None = None) -> Any:
    result = invoke(*args, "--json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_amounts() -> None:
    assert parse_amount("123") == 123
    assert parse_amount("1.5eth") == 3 * ETH // 2
    assert parse_amount("20 gwei") == 20 * 10**9
    assert parse_amount("2ether") == 2 * ETH
    for bad in ("1.5", "abc", "-1", "1e-30eth"):
        with pytest.raises(typer.BadParameter):
            parse_amount(bad)


def test_help_lists_the_user_commands_beside_the_roles() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for name in (*COMMANDS, "sequencer", "verifier", "up"):
        assert name in result.output
    for name in COMMANDS:
        usage = invoke(name, "--help")
        assert usage.exit_code == 0 and "--url" in usage.output and "--json" in usage.output, name


def test_an_unreachable_sequencer_and_a_bad_key_exit_1_with_the_reason() -> None:
    result = invoke("account", "0x" + "11" * 20, "--url", "http://127.0.0.1:9")
    assert result.exit_code == 1 and "transport" in result.stderr
    result = invoke("transfer", "0x" + "11" * 20, "1", "--url", "http://127.0.0.1:9", "--key", "0x12")
    assert result.exit_code == 1 and "private key" in result.stderr


@pytest.mark.e2e
def test_every_command_against_the_stack(client_stack: ClientStack) -> None:
    stack = client_stack
    env = {"MLROLLUP_URL": stack.url, "MLROLLUP_KEY": stack.key("cli")}
    l1 = ["--l1-url", stack.stack.sequencer_env["MLROLLUP_L1_RPC_URL"]]
    me, peer = stack.user("cli"), stack.user("cli_peer")
    me_address, peer_address = to_checksum_address(me.address), to_checksum_address(peer.address)

    # account: the key's by default, any address given; a table or JSON
    mine = as_json("account", env=env)
    assert mine["address"] == me_address and int(mine["balance"]) > 0
    table = invoke("account", peer_address, env=env)
    assert table.exit_code == 0 and "pending nonce" in table.stdout

    # deposit from an L1 account to ours, waiting until L2 credits it
    deposited = as_json("deposit", "0.5eth", "--to", me_address, *l1, "--key", L1_KEY, env=env)
    assert deposited["account"]["address"] == me_address and deposited["l1"]["gas_used"] > 0

    # the fee schedule, then a transfer signing its price (or one refused for signing less), then the tx
    fees = as_json("fees", env=env)
    assert int(fees["price"]) > 0 and fees["units_per_byte"] == 40
    low = invoke("transfer", peer_address, "1000", "--max-fee-price", str(int(fees["price"]) - 1), env=env)
    assert low.exit_code == 1 and "fee_price_too_low" in low.stderr
    sent = as_json("transfer", peer_address, "1000", env=env)
    assert sent["receipt"]["success"] and sent["tx"]["type"] == "Transfer"
    assert int(sent["receipt"]["fee"]) > 0  # paid at the deployment's price
    shown = as_json("tx", sent["tx"]["hash"], env=env)
    assert shown["status"] == "executed" and shown["sender"] == me_address
    assert "Transfer" in invoke("tx", sent["tx"]["hash"], env=env).stdout

    # the server's reason, exit 1
    refused = invoke("transfer", peer_address, "1000000eth", env=env)
    assert refused.exit_code == 1 and "insufficient_balance" in refused.stderr
    missing = invoke("tx", "0x" + "00" * 32, env=env)
    assert missing.exit_code == 1 and "not_found" in missing.stderr

    # a task and a model made with the SDK, shown by the CLI
    with Client(stack.url, stack.key("cli_peer")) as c:
        now = int(time.time())
        spec = validate_spec(Arch.LINREG, 2, 0, 0)
        made = c.create_task(spec, ETH, now + 600, now + 1200, keccak(b"hidden"))
        task_id = c.wait_for_receipt(made.hash).created_id
        model_id = c.wait_for_receipt(c.create_model(1, 1000, [1, 2]).hash).created_id
    task = as_json("task", str(task_id), env=env)
    assert (task["phase"], task["reward"], task["leaderboard"]) == ("commit", ETH, [])
    assert "leaderboard" in invoke("task", str(task_id), env=env).stdout
    assert as_json("model", str(model_id), "--points", env=env)["weights"] == [1, 2]
    assert "weights" in invoke("model", str(model_id), env=env).stdout
    assert invoke("task", "999999", env=env).exit_code == 1

    # withdraw, then claim on L1 once final (anyone's key pays the gas; the recipient is paid)
    recipient = to_checksum_address(Wallet.from_seed(902).address)
    withdrawn = as_json("withdraw", "1eth", "--to", recipient, env=env)
    withdrawal_id = withdrawn["receipt"]["created_id"]
    claimed = as_json("claim", str(withdrawal_id), *l1, "--key", L1_KEY, env=env)
    assert claimed["proof"]["recipient"] == recipient and int(claimed["proof"]["amount"]) == ETH
    assert stack.stack.bridge.is_claimed(withdrawal_id)

    # batches: the one that holds the claim's withdrawal is final
    page = as_json("batches", "--limit", "100", "--status", "final", env=env)
    assert claimed["proof"]["batch"] in [b["id"] for b in page["batches"]]
    assert all(b["status"] == "final" for b in page["batches"])
    assert "batches" in invoke("batches", env=env).stdout
