"""`mlrollup devnet` (and `python -m l1_contracts.devnet`): its flags, its banner, serving until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from l1_contracts.devnet.accounts import DEV_MNEMONIC, dev_accounts
from l1_contracts.devnet.chain import EVM_FORK
from l1_contracts.devnet.config import DEFAULT_BLOCK_INTERVAL_S, DevnetConfig
from l1_contracts.devnet.server import serve
from l1_contracts.errors import DevnetConfigError, DevnetError
from service.recursion import cap_recursion_limit


def _parser() -> argparse.ArgumentParser:
    defaults = DevnetConfig()
    parser = argparse.ArgumentParser(
        prog="mlrollup devnet",
        description="Serve an embedded Ethereum devnet (py-evm, Prague) over HTTP JSON-RPC. Every "
        "transaction is mined at once, and an empty block every --block-interval seconds while idle; "
        "funded development accounts and their keys are printed.",
    )
    parser.add_argument("--host", default=defaults.host, help="address to bind (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=defaults.port, help="TCP port, 0 for a free one (default %(default)s)"
    )
    parser.add_argument(
        "--chain-id", type=int, default=defaults.chain_id, help="chain id (default %(default)s)"
    )
    parser.add_argument(
        "--block-gas-limit",
        type=int,
        default=defaults.block_gas_limit,
        help="block gas limit (default %(default)s)",
    )
    parser.add_argument(
        "--accounts", type=int, default=defaults.accounts, help="funded dev accounts (default %(default)s)"
    )
    parser.add_argument(
        "--balance", type=int, default=defaults.balance_eth, help="ETH per dev account (default %(default)s)"
    )
    parser.add_argument(
        "--block-interval",
        type=float,
        default=DEFAULT_BLOCK_INTERVAL_S,
        help="seconds between empty blocks while no transaction comes, so that followers waiting for "
        "confirmations see the chain move; 0 mines only on a transaction (default %(default)s)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=None,
        help="largest JSON-RPC request body; larger ones get HTTP 413 (default: an "
        "eth_sendRawTransaction of the largest transaction a block holds, at least 5 MiB)",
    )
    parser.add_argument(
        "--max-json-depth",
        type=int,
        default=defaults.max_json_depth,
        help="deepest nesting of arrays and objects in a request; deeper ones get HTTP 400 "
        "(default %(default)s)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every RPC call and its time")
    return parser


def _banner(config: DevnetConfig, url: str) -> str:
    lines = [
        f"mlrollup devnet: py-evm ({EVM_FORK}), every transaction mined at once",
        f"RPC URL:         {url}",
        f"Chain id:        {config.chain_id}",
        f"Block gas limit: {config.block_gas_limit}",
        "Empty blocks:    "
        + (f"every {config.block_interval_s:g} s while idle" if config.block_interval_s else "off"),
        f"Request limits:  {config.body_limit} bytes, JSON nested {config.max_json_depth} deep",
        "",
        f"Accounts ({config.balance_eth} ETH each), from the public test mnemonic "
        f'"{DEV_MNEMONIC}" (anyone can spend from these keys on a public chain):',
    ]
    for index, account in enumerate(dev_accounts(config.accounts)):
        lines.append(f"({index}) {account.address} {account.private_key}")
    lines += ["", "Serving until Ctrl-C."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """`mlrollup devnet`: serve the devnet until Ctrl-C or SIGTERM. Returns the exit status."""
    cap_recursion_limit()  # py-evm's imports raised it (py_ecc): see service.recursion
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    if args.verbose:  # this package only: py-evm's debug logging traces every opcode
        logging.getLogger("l1_contracts").setLevel(logging.DEBUG)
    try:
        config = DevnetConfig(
            host=args.host,
            port=args.port,
            chain_id=args.chain_id,
            block_gas_limit=args.block_gas_limit,
            accounts=args.accounts,
            balance_eth=args.balance,
            block_interval_s=args.block_interval,
            max_body_bytes=args.max_body_bytes,
            max_json_depth=args.max_json_depth,
        )
    except DevnetConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def ready(url: str) -> None:
        print(_banner(config, url), flush=True)

    try:
        serve(config, ready)
    except DevnetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("devnet stopped", flush=True)
    return 0
