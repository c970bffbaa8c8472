"""The README's roles-apart commands, run as written: a deposit made on L1 is credited on L2.

The commands are read from the README's sections "The L1 side" and "The sequencer" (so the test
follows the README, and fails when they drift apart) and run in a fresh directory, as a user would
run them one after the other, with the flags the README names for other ports: `--port` for the
devnet and the sequencer, the devnet's URL for `--rpc` and `--l1-rpc-url`, and dev account 1's key
for the `0x…` the README leaves to the reader. Nothing sets the deposit confirmations: the
sequencer's default (1) holds, and the devnet's empty blocks confirm the deposit.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import httpx
import pytest
from web3 import HTTPProvider, Web3

from l1_contracts.bindings.bridge import Bridge
from l1_contracts.bindings.rollup import Rollup
from l1_contracts.bindings.tx import KeySender
from l1_contracts.deploy import load
from l1_contracts.devnet import dev_accounts
from tests.support.servers import ROOT, Role, free_port, roles_in, rpc, wait_until

pytestmark = pytest.mark.e2e

ETH = 10**18
SECTIONS = ("## The L1 side", "## The sequencer")


def readme_commands() -> dict[str, list[str]]:
    """Each `.venv/bin/mlrollup ROLE …` line of the two sections, by role, without its comment."""
    text = (ROOT / "README.md").read_text()
    commands: dict[str, list[str]] = {}
    for heading in SECTIONS:
        section = text.split(heading, 1)[1].split("\n## ", 1)[0]
        for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
            for line in block.splitlines():
                words = shlex.split(line, comments=True)
                if words[:1] == [".venv/bin/mlrollup"]:
                    commands[words[1]] = words[1:]
    return commands


def mlrollup() -> list[str]:
    """`.venv/bin/mlrollup`, the README's program: this interpreter's, or the module it runs."""
    script = Path(sys.executable).parent / "mlrollup"
    return [str(script)] if script.exists() else [sys.executable, "-m", "mlrollup"]


def with_flag(argv: list[str], flag: str, value: str) -> list[str]:
    """`argv` with `flag value` (replacing the README's value if it gives one)."""
    if flag in argv:
        at = argv.index(flag)
        return [*argv[: at + 1], value, *argv[at + 2 :]]
    return [*argv, flag, value]


def test_the_readme_commands_credit_a_deposit(tmp_path: Path) -> None:
    commands = readme_commands()
    assert sorted(commands) == ["batcher", "deploy", "devnet", "sequencer"]
    deployer, proposer, user = dev_accounts(3)
    assert deployer.private_key in commands["deploy"]  # the README deploys from dev account 0
    assert "0x…" in commands["batcher"]
    l1_port, api_port = free_port(), free_port()
    l1_url, api_url = f"http://127.0.0.1:{l1_port}", f"http://127.0.0.1:{api_port}"
    argv = {
        "devnet": with_flag(commands["devnet"], "--port", str(l1_port)),
        "deploy": with_flag(commands["deploy"], "--rpc", l1_url),
        "sequencer": with_flag(
            with_flag(commands["sequencer"], "--port", str(api_port)), "--l1-rpc-url", l1_url
        ),
        "batcher": with_flag(
            [proposer.private_key if word == "0x…" else word for word in commands["batcher"]],
            "--l1-rpc-url",
            l1_url,
        ),
    }
    workdir = tmp_path / "work"
    workdir.mkdir()
    with roles_in(tmp_path / "logs", cwd=workdir) as roles:

        def start(role: str) -> Role:
            return roles.start_command(role, [*mlrollup(), *argv[role]])

        devnet = start("devnet")

        def devnet_answers() -> bool:
            devnet.check_alive()
            return isinstance(rpc(l1_url, "eth_blockNumber"), str)

        wait_until("the devnet", devnet_answers)
        deploy = start("deploy")
        assert deploy.popen.wait(300) == 0, deploy.output()
        deployment = load(workdir / "deployments" / "31337.json")
        sequencer = start("sequencer")

        def ready() -> bool:
            sequencer.check_alive()
            return httpx.get(f"{api_url}/readyz", timeout=2).status_code == 200

        wait_until("the sequencer", ready)
        batcher = start("batcher")
        w3 = Web3(HTTPProvider(l1_url, request_kwargs={"timeout": 60}))
        rollup = Rollup(w3, deployment.rollup)

        def bonded() -> bool:
            batcher.check_alive()
            return rollup.bond_of(proposer.address) > 0

        # Once the batcher has bonded nobody sends an L1 tx until a batch is sealed, and no batch
        # holds the deposit before it is confirmed: only the devnet's empty blocks confirm it.
        wait_until("the batcher's bond", bonded)
        recipient = "0x" + "ab" * 20
        receipt = Bridge(w3, deployment.bridge).deposit(
            KeySender.from_hex(user.private_key), recipient, 3 * ETH
        )
        assert receipt["status"] == 1

        def credited() -> bool:
            for role in (devnet, sequencer, batcher):
                role.check_alive()
            balance = httpx.get(f"{api_url}/v1/accounts/{recipient}").json()["balance"]
            return bool(balance == str(3 * ETH))

        wait_until("the deposit credited on L2", credited, timeout=120)
        # and the batcher posts the batch that consumed it
        wait_until("the batch with the deposit on L1", lambda: rollup.batch_count() >= 1, timeout=180)
        assert rollup.batches_appended(deployment.block_number)[0].deposit_count == 1
