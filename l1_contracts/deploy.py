"""Deploy the Bridge, the one-step prover and the Rollup and wire them:
`python -m l1_contracts.deploy --rpc URL --key 0x…`.

From one sender: the Bridge (no constructor arguments), the one-step prover
(`l1_contracts.bindings.prover.deploy_prover`, which knows the Bridge), the Rollup (Bridge, genesis
root, bond, challenge window, prover, challenger bond, response and proof windows, the challenger's
share of a slashed bond, the L2 fee price and fee recipient), then `Bridge.setRollup(rollup)`, which
only the Bridge's deployer may call, once, and which checks that the Rollup was built on this Bridge.
The result is a `Deployment`, saved as `deployments/<chainId>.json`. Only standard JSON-RPC methods are
used, so any endpoint works.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from web3 import HTTPProvider, Web3

from l1_contracts.artifacts import load_artifact
from l1_contracts.bindings.bridge import GAS_SET_ROLLUP, Bridge
from l1_contracts.bindings.prover import deploy_prover
from l1_contracts.bindings.tx import KeySender, Sender, transact
from l1_contracts.errors import DeploymentError, L1Error
from protocol.state import State
from service.recursion import cap_recursion_limit

# Creation gas (measured 0.72M for the Bridge and 2.4M for the Rollup), with a margin.
GAS_DEPLOY_BRIDGE = 1_200_000
GAS_DEPLOY_ROLLUP = 3_500_000
# Format 2 added the fraud game's fields, format 3 the fee schedule; an older file still loads (the new
# fields read as 0 / ""), but the roles read the fee schedule from the Rollup itself.
FORMAT_VERSION = 3

# Defaults of the fraud game (devnet timing: seconds; a public chain wants days, docs/spec.md section 9).
DEFAULT_CHALLENGER_BOND = 10**17  # wei
DEFAULT_RESPONSE_WINDOW = 60  # seconds for the proposer to reveal its step hashes
DEFAULT_PROOF_WINDOW = 120  # seconds for the fraud proof after the reveal (py-evm runs ~0.3-1 Mgas/s)
DEFAULT_CHALLENGER_SHARE_BPS = 5_000  # half of a slashed bond to the challenger, half burned
# L2 fees (docs/spec.md section 6): wei a fee unit (a unit is priced like one L1 gas, so 1 gwei, a
# typical L1 base fee); the recipient defaults to the deployer's address.
DEFAULT_FEE_PRICE = 10**9

__all__ = ["Deployment", "DeploymentError", "deploy", "load", "main", "save"]


@dataclass(frozen=True, slots=True)
class Deployment:
    """Where the contracts live and the parameters they were built with."""

    chain_id: int
    rollup: str  # checksummed address; also the EIP-712 verifyingContract of L2 txs
    bridge: str
    deployer: str
    block_number: int  # block of the Bridge's creation: scan events from here
    bond: int  # wei
    challenge_window: int  # seconds
    genesis_root: bytes
    # the fraud game (format 2; defaults for records written before it)
    prover: str = ""  # checksummed address of the one-step prover
    challenger_bond: int = 0  # wei
    response_window: int = 0  # seconds
    proof_window: int = 0  # seconds
    challenger_share_bps: int = 0  # of a slashed proposer bond, in basis points
    # the L2 fees (format 3)
    fee_price: int = 0  # wei a fee unit
    fee_recipient: str = ""  # checksummed L2 address credited with every fee

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["bond"] = str(self.bond)  # above 2^53: a string, so JavaScript clients read it exactly
        out["challenger_bond"] = str(self.challenger_bond)
        out["genesis_root"] = "0x" + self.genesis_root.hex()
        out["format"] = FORMAT_VERSION
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        try:
            return cls(
                chain_id=int(data["chain_id"]),
                rollup=to_checksum_address(data["rollup"]),
                bridge=to_checksum_address(data["bridge"]),
                deployer=to_checksum_address(data["deployer"]),
                block_number=int(data["block_number"]),
                bond=int(data["bond"]),
                challenge_window=int(data["challenge_window"]),
                genesis_root=bytes.fromhex(str(data["genesis_root"]).removeprefix("0x")),
                prover=to_checksum_address(data["prover"]) if data.get("prover") else "",
                challenger_bond=int(data.get("challenger_bond", 0)),
                response_window=int(data.get("response_window", 0)),
                proof_window=int(data.get("proof_window", 0)),
                challenger_share_bps=int(data.get("challenger_share_bps", 0)),
                fee_price=int(data.get("fee_price", 0)),
                fee_recipient=to_checksum_address(data["fee_recipient"]) if data.get("fee_recipient") else "",
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise DeploymentError(f"not a deployment record: {exc}") from exc


def _create(
    w3: Web3, sender: Sender, name: str, args_types: list[str], args: list[Any], gas: int
) -> tuple[str, int]:
    artifact = load_artifact(name)
    data = bytes.fromhex(artifact.bytecode[2:]) + abi_encode(args_types, args)
    receipt = transact(w3, sender, to=None, data=data, gas=gas)
    address = receipt.get("contractAddress")
    if not address:
        raise DeploymentError(f"creating {name} gave no contract address")
    return str(address), int(receipt["blockNumber"])


ROLLUP_CONSTRUCTOR = [
    "address",  # bridge
    "bytes32",  # genesisRoot
    "uint256",  # bondAmount
    "uint256",  # challengeWindow
    "address",  # prover
    "uint256",  # challengerBond
    "uint256",  # responseWindow
    "uint256",  # proofWindow
    "uint256",  # challengerShareBps
    "uint256",  # feePrice
    "address",  # feeRecipient
]


def deploy(
    w3: Web3,
    sender: Sender,
    *,
    bond: int,
    challenge_window: int,
    genesis_root: bytes | None = None,
    challenger_bond: int = DEFAULT_CHALLENGER_BOND,
    response_window: int = DEFAULT_RESPONSE_WINDOW,
    proof_window: int = DEFAULT_PROOF_WINDOW,
    challenger_share_bps: int = DEFAULT_CHALLENGER_SHARE_BPS,
    fee_price: int = DEFAULT_FEE_PRICE,
    fee_recipient: str | None = None,
    prover: str | None = None,
) -> Deployment:
    """Deploy the Bridge, the one-step prover and the Rollup from `sender` and wire them (genesis: the
    empty state by default; fees: `fee_price` wei a unit, credited to `fee_recipient`, by default the
    deployer's address). `prover` reuses an already deployed one-step prover instead."""
    root = State().root if genesis_root is None else genesis_root
    if len(root) != 32:
        raise DeploymentError(f"the genesis root is 32 bytes, got {len(root)}")
    recipient = to_checksum_address(fee_recipient or sender.address)
    if not 0 <= fee_price < 2**64 or int(recipient, 16) == 0:
        raise DeploymentError("the fee price must be in 0..2**64-1 wei a unit and the fee recipient non-zero")
    bridge, block = _create(w3, sender, "Bridge", [], [], GAS_DEPLOY_BRIDGE)
    if prover is None:
        prover = deploy_prover(w3, sender, bridge)
    rollup, _ = _create(
        w3,
        sender,
        "Rollup",
        ROLLUP_CONSTRUCTOR,
        [
            bridge,
            root,
            bond,
            challenge_window,
            to_checksum_address(prover),
            challenger_bond,
            response_window,
            proof_window,
            challenger_share_bps,
            fee_price,
            recipient,
        ],
        GAS_DEPLOY_ROLLUP,
    )
    Bridge(w3, bridge).set_rollup(sender, rollup, gas=GAS_SET_ROLLUP)
    return Deployment(
        chain_id=int(w3.eth.chain_id),
        rollup=to_checksum_address(rollup),
        bridge=to_checksum_address(bridge),
        deployer=to_checksum_address(sender.address),
        block_number=block,
        bond=bond,
        challenge_window=challenge_window,
        genesis_root=root,
        prover=to_checksum_address(prover),
        challenger_bond=challenger_bond,
        response_window=response_window,
        proof_window=proof_window,
        challenger_share_bps=challenger_share_bps,
        fee_price=fee_price,
        fee_recipient=recipient,
    )


def save(deployment: Deployment, directory: str | Path) -> Path:
    """Write `<directory>/<chainId>.json` (replacing an older one) and return its path."""
    path = Path(directory) / f"{deployment.chain_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=1, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


def load(path: str | Path) -> Deployment:
    """Read a file written by `save`."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DeploymentError(f"cannot read deployment {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise DeploymentError(f"{path} does not hold a JSON object")
    return Deployment.from_json(data)


def _eth_to_wei(text: str) -> int:
    wei = Decimal(text) * 10**18
    if wei != wei.to_integral_value() or wei <= 0:
        raise argparse.ArgumentTypeError(f"{text} ETH is not a positive whole number of wei")
    return int(wei)


def _root(text: str) -> bytes:
    raw = bytes.fromhex(text.removeprefix("0x"))
    if len(raw) != 32:
        raise argparse.ArgumentTypeError("a state root is 32 bytes of hex")
    return raw


def main(argv: list[str] | None = None) -> int:
    cap_recursion_limit()  # web3 raised it on import (py_ecc): see service.recursion
    parser = argparse.ArgumentParser(
        prog="python -m l1_contracts.deploy", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rpc", required=True, help="JSON-RPC URL of the L1 node")
    parser.add_argument("--key", required=True, help="hex private key of the deploying account")
    parser.add_argument("--bond-eth", type=_eth_to_wei, default=10**18, help="proposer bond in ETH (1)")
    parser.add_argument("--challenge-window", type=int, default=10, help="challenge window, seconds (10)")
    parser.add_argument("--genesis-root", type=_root, default=None, help="L2 genesis root (empty state's)")
    parser.add_argument(
        "--challenger-bond-eth",
        type=_eth_to_wei,
        default=DEFAULT_CHALLENGER_BOND,
        help=f"bond of a challenge in ETH ({DEFAULT_CHALLENGER_BOND / 10**18:g})",
    )
    parser.add_argument(
        "--response-window",
        type=int,
        default=DEFAULT_RESPONSE_WINDOW,
        help=f"seconds a challenged proposer has to reveal its step hashes ({DEFAULT_RESPONSE_WINDOW})",
    )
    parser.add_argument(
        "--proof-window",
        type=int,
        default=DEFAULT_PROOF_WINDOW,
        help=f"seconds a challenger has to prove fraud after the reveal ({DEFAULT_PROOF_WINDOW})",
    )
    parser.add_argument(
        "--challenger-share-bps",
        type=int,
        default=DEFAULT_CHALLENGER_SHARE_BPS,
        help=f"basis points of a slashed bond paid to the challenger, the rest burned "
        f"({DEFAULT_CHALLENGER_SHARE_BPS})",
    )
    parser.add_argument(
        "--fee-price",
        type=int,
        default=DEFAULT_FEE_PRICE,
        help=f"wei an L2 fee unit, 0..2**64-1 (0: txs are free; default {DEFAULT_FEE_PRICE:,}, 1 gwei)",
    )
    parser.add_argument(
        "--fee-recipient", default=None, help="L2 address credited with every fee (the deployer's)"
    )
    parser.add_argument("--out", default="deployments", help="directory for <chainId>.json (deployments)")
    args = parser.parse_args(argv)
    if args.challenge_window < 0:
        parser.error("--challenge-window must be >= 0")
    for flag, value in (("--response-window", args.response_window), ("--proof-window", args.proof_window)):
        if not 1 <= value < 2**32:
            parser.error(f"{flag} must be in 1..2**32-1 seconds")
    if not 0 <= args.challenger_share_bps <= 10_000:
        parser.error("--challenger-share-bps must be in 0..10000")
    if not 0 <= args.fee_price < 2**64:
        parser.error("--fee-price must be in 0..2**64-1 wei a unit")
    if args.fee_recipient is not None:
        try:
            args.fee_recipient = to_checksum_address(args.fee_recipient)
        except ValueError:
            parser.error("--fee-recipient is not an address")
        if int(args.fee_recipient, 16) == 0:
            parser.error("--fee-recipient must not be the zero address")
    w3 = Web3(HTTPProvider(args.rpc, request_kwargs={"timeout": 60}))
    try:
        sender = KeySender.from_hex(args.key)
    except ValueError:
        parser.error("--key is not a hex private key")
    try:
        deployment = deploy(
            w3,
            sender,
            bond=args.bond_eth,
            challenge_window=args.challenge_window,
            genesis_root=args.genesis_root,
            challenger_bond=args.challenger_bond_eth,
            response_window=args.response_window,
            proof_window=args.proof_window,
            challenger_share_bps=args.challenger_share_bps,
            fee_price=args.fee_price,
            fee_recipient=args.fee_recipient,
        )
        path = save(deployment, args.out)
    except (L1Error, OSError) as exc:
        print(f"deploy failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"Rollup {deployment.rollup}\nBridge {deployment.bridge}\nProver {deployment.prover}\n"
        f"Fees {deployment.fee_price} wei a unit to {deployment.fee_recipient}\nwrote {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
