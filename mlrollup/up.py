"""`mlrollup up`: the local stack in one command, on the embedded defaults.

Starts the py-evm devnet (`mlrollup devnet`, an empty block every `--l1-block-interval` seconds
while idle) as a child process, deploys the contracts from dev
account 0, then the sequencer (`mlrollup sequencer --batcher`) with dev account 1 as the proposer,
and the verifier (`mlrollup verifier`) with dev account 2 as the challenger, each with its own SQLite
database under `--data-dir`, beside the deployment file. Prints the URLs, the addresses and the funded
development keys, and waits. Ctrl-C (or SIGTERM) stops the verifier, the sequencer, then the devnet;
if any dies on its own, the others are stopped too and the exit status is 1.

The devnet keeps its chain in memory, so every `up` starts a new chain: the data directory's
database of an earlier run would not match it and is cleared at start.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx
from rich.console import Console
from rich.table import Table
from web3 import HTTPProvider, Web3

from l1_contracts.bindings.tx import KeySender
from l1_contracts.deploy import DEFAULT_FEE_PRICE, Deployment, deploy, save
from l1_contracts.devnet import DEFAULT_BLOCK_INTERVAL_S, DevAccount, dev_accounts
from l1_contracts.errors import L1Error
from service.lifeline import pdeathsig_preexec
from service.recursion import cap_recursion_limit

DEPLOYER, PROPOSER, CHALLENGER = 0, 1, 2
START_TIMEOUT_S = 120.0  # importing torch and py-evm takes several seconds on a cold machine


class UpError(Exception):
    """The stack could not start; the message says why."""


@dataclass(frozen=True, slots=True)
class Options:
    data_dir: Path
    host: str
    l1_port: int
    port: int
    verifier_port: int
    challenge_window: int
    batch_max_age_s: float
    block_interval_s: float
    l1_block_interval_s: float = DEFAULT_BLOCK_INTERVAL_S
    fee_price: int = DEFAULT_FEE_PRICE  # wei an L2 fee unit
    fee_recipient: str | None = None  # the L2 address fees are credited to; None: the deployer's


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlrollup up", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/up"), help="(default %(default)s)")
    parser.add_argument("--host", default="127.0.0.1", help="address both servers bind (default %(default)s)")
    parser.add_argument(
        "--l1-port", type=int, default=8545, help="devnet JSON-RPC port (default %(default)s)"
    )
    parser.add_argument("--port", type=int, default=8000, help="sequencer API port (default %(default)s)")
    parser.add_argument(
        "--verifier-port", type=int, default=8100, help="verifier API port (default %(default)s)"
    )
    parser.add_argument(
        "--challenge-window",
        type=int,
        default=10,
        help="seconds before a batch is final (default %(default)s)",
    )
    parser.add_argument(
        "--batch-max-age", type=float, default=5.0, help="seconds a batch stays open (default %(default)s)"
    )
    parser.add_argument(
        "--block-interval", type=float, default=1.0, help="seconds between L2 blocks (default %(default)s)"
    )
    parser.add_argument(
        "--l1-block-interval",
        type=float,
        default=DEFAULT_BLOCK_INTERVAL_S,
        help="seconds between the devnet's empty blocks while idle, which confirm deposits "
        "(default %(default)s; 0 mines only on a transaction and leaves deposits unconfirmed)",
    )
    parser.add_argument(
        "--fee-price",
        type=int,
        default=DEFAULT_FEE_PRICE,
        help="wei an L2 fee unit, the Rollup's feePrice (default %(default)s, 1 gwei; 0: txs are free)",
    )
    parser.add_argument(
        "--fee-recipient", default=None, help="L2 address credited with every fee (default: the deployer's)"
    )
    return parser


class Stack:
    """The child processes of `up`, stopped in reverse order."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.logs = options.data_dir / "logs"

    def spawn(
        self, name: str, argv: Sequence[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - the child owns it
        # Own session: a Ctrl-C reaches only `up`, which stops the children in order. If `up` itself is
        # killed (SIGKILL), the kernel sends each child SIGTERM (Linux), so none outlives it.
        proc = subprocess.Popen(
            [sys.executable, *argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            preexec_fn=pdeathsig_preexec(signal.SIGTERM),
        )
        self.children.append((name, proc))
        return proc

    def check_alive(self) -> None:
        for name, proc in self.children:
            code = proc.poll()
            if code is not None:
                raise UpError(f"the {name} exited with status {code}: see {self.logs / (name + '.log')}")

    def stop(self) -> None:
        for _name, proc in reversed(self.children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.children.clear()


def _wait_for(what: str, check: Callable[[], bool], stack: Stack, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while True:
        stack.check_alive()
        try:
            if check():
                return
        except (httpx.HTTPError, OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise UpError(f"the {what} did not come up within {timeout:.0f} s")
        time.sleep(0.25)


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def start(options: Options, console: Console) -> tuple[Stack, Deployment, list[DevAccount]]:
    """Start devnet, deployment, sequencer and verifier; returns the running stack."""
    ports = (
        ("--l1-port", options.l1_port),
        ("--port", options.port),
        ("--verifier-port", options.verifier_port),
    )
    for name, port in ports:
        if not _port_free(options.host, port):
            raise UpError(f"port {port} on {options.host} is in use: stop what holds it or pass {name}")
    if options.data_dir.exists():
        shutil.rmtree(options.data_dir)
    options.data_dir.mkdir(parents=True)
    stack = Stack(options)
    l1_url = f"http://{options.host}:{options.l1_port}"
    api_url = f"http://{options.host}:{options.port}"
    try:
        console.print(f"starting the devnet on {l1_url} …")
        devnet_args = ["--host", options.host, "--port", str(options.l1_port)]
        devnet_args += ["--block-interval", str(options.l1_block_interval_s)]
        stack.spawn("devnet", ["-m", "l1_contracts.devnet", *devnet_args])
        w3 = Web3(HTTPProvider(l1_url, request_kwargs={"timeout": 60}))
        _wait_for("devnet", w3.is_connected, stack)
        accounts = dev_accounts()
        console.print("deploying the Bridge, the one-step prover and the Rollup …")
        deployment = deploy(
            w3,
            KeySender.from_hex(accounts[DEPLOYER].private_key),
            bond=10**18,
            challenge_window=options.challenge_window,
            fee_price=options.fee_price,
            fee_recipient=options.fee_recipient,
        )
        deployment_file = save(deployment, options.data_dir / "deployments")
        console.print(f"starting the sequencer on {api_url} …")
        env = {
            "MLROLLUP_DATABASE_URL": f"sqlite:///{(options.data_dir / 'sequencer.db').resolve()}",
            "MLROLLUP_DEPLOYMENT_FILE": str(deployment_file.resolve()),
            "MLROLLUP_L1_RPC_URL": l1_url,
            "MLROLLUP_PROPOSER_KEY": accounts[PROPOSER].private_key,
            "MLROLLUP_BATCHER": "true",
            "MLROLLUP_HOST": options.host,
            "MLROLLUP_PORT": str(options.port),
            "MLROLLUP_BATCH_MAX_AGE_S": str(options.batch_max_age_s),
            "MLROLLUP_BLOCK_INTERVAL_S": str(options.block_interval_s),
            "MLROLLUP_DEPOSIT_POLL_S": "0.5",
            # Deposits wait for the default confirmations (1): the devnet's block timer mines the
            # block on top of a deposit's within --l1-block-interval.
            "MLROLLUP_LOG_LEVEL": "info",
        }
        stack.spawn("sequencer", ["-m", "sequencer.cli"], env)
        _wait_for("sequencer", lambda: httpx.get(f"{api_url}/readyz", timeout=2).status_code == 200, stack)
        verifier_url = f"http://{options.host}:{options.verifier_port}"
        console.print(f"starting the verifier on {verifier_url} …")
        verifier_env = {
            "MLROLLUP_VERIFIER_DATABASE_URL": f"sqlite:///{(options.data_dir / 'verifier.db').resolve()}",
            "MLROLLUP_VERIFIER_DEPLOYMENT_FILE": str(deployment_file.resolve()),
            "MLROLLUP_VERIFIER_L1_RPC_URL": l1_url,
            "MLROLLUP_VERIFIER_CHALLENGER_KEY": accounts[CHALLENGER].private_key,
            "MLROLLUP_VERIFIER_HOST": options.host,
            "MLROLLUP_VERIFIER_PORT": str(options.verifier_port),
        }
        stack.spawn("verifier", ["-m", "verifier"], verifier_env)
        _wait_for(
            "verifier", lambda: httpx.get(f"{verifier_url}/readyz", timeout=2).status_code == 200, stack
        )
    except BaseException:
        stack.stop()
        raise
    return stack, deployment, accounts


def banner(options: Options, deployment: Deployment, accounts: list[DevAccount]) -> Table:
    """What a user needs to talk to the stack."""
    table = Table(title="mlrollup local stack", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row(
        "Sequencer API", f"http://{options.host}:{options.port}/v1  (docs: /docs, metrics: /metrics)"
    )
    table.add_row(
        "Verifier API",
        f"http://{options.host}:{options.verifier_port}/v1/status  (/v1/disputes, /metrics)",
    )
    table.add_row("L1 JSON-RPC", f"http://{options.host}:{options.l1_port}  (chain id {deployment.chain_id})")
    table.add_row("Rollup", deployment.rollup)
    table.add_row("Bridge", deployment.bridge)
    table.add_row("One-step prover", deployment.prover)
    table.add_row(
        "Fraud game",
        f"challenge window {deployment.challenge_window} s, reveal {deployment.response_window} s, "
        f"proof {deployment.proof_window} s",
    )
    table.add_row("L2 fees", f"{deployment.fee_price:,} wei a fee unit, to {deployment.fee_recipient}")
    table.add_row("Data", f"{options.data_dir}  (logs in {options.data_dir / 'logs'})")
    return table


def key_lines(accounts: list[DevAccount]) -> str:
    """The funded development accounts, one a line, never cropped (users copy the keys)."""
    lines = ["Funded development accounts (address, private key):"]
    for index, account in enumerate(accounts):
        role = {DEPLOYER: " deployer", PROPOSER: " proposer", CHALLENGER: " challenger"}.get(index, "")
        lines.append(f"({index}) {account.address} {account.private_key}{role}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the stack until Ctrl-C; the exit status is 0 after a clean stop."""
    cap_recursion_limit()  # web3's imports raised it (py_ecc): see service.recursion
    args = _parser().parse_args(argv)
    options = Options(
        args.data_dir,
        args.host,
        args.l1_port,
        args.port,
        args.verifier_port,
        args.challenge_window,
        args.batch_max_age,
        args.block_interval,
        args.l1_block_interval,
        args.fee_price,
        args.fee_recipient,
    )
    console = Console()
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack, deployment, accounts = start(options, console)
    except (UpError, L1Error, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    console.print(banner(options, deployment, accounts))
    print(key_lines(accounts), flush=True)
    print("Dev keys come from a public mnemonic: never use them on a real chain. Ctrl-C stops.", flush=True)
    status = 0
    try:
        while not stopping:
            stack.check_alive()
            time.sleep(0.25)
    except UpError as exc:
        console.print(f"[red]error:[/red] {exc}")
        status = 1
    console.print("stopping …")
    stack.stop()
    console.print("stopped")
    return status
