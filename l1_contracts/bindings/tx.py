"""Sending transactions and decoding reverts, shared by the Rollup and Bridge bindings.

A `Sender` signs and sends: `UnlockedSender` asks the node to sign (`eth_sendTransaction`, for a
devnet's unlocked accounts), `KeySender` signs locally with eth-account and sends raw bytes (any
JSON-RPC endpoint). `transact` runs a transaction with an explicit gas limit: it first simulates it
with `eth_call` so that a revert surfaces before any gas is spent, then sends it and waits for the
receipt; a mined transaction with status 0 is replayed with `eth_call` to learn why. Every revert is
raised as the `ContractRevert` subclass named after the contract's custom error
(`l1_contracts.errors.CUSTOM_ERRORS`, and `PROVER_ERRORS` for the one-step prover's). Only standard
`eth_*` methods are used.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol, cast

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_account import Account
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_names, get_abi_input_types
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError, TimeExhausted, Web3RPCError
from web3.types import TxParams, TxReceipt

from l1_contracts.artifacts import ARTIFACTS
from l1_contracts.errors import (
    CUSTOM_ERRORS,
    PROVER_ERRORS,
    CalldataUndecodable,
    ContractRevert,
    RevertWithPanic,
    RevertWithReason,
    TransactionReverted,
    TransactionTimeout,
)

GWEI = 10**9
_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
_PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)
# how py-evm's own failures (not a REVERT) read in eth-tester's TransactionFailed message
_VM_FAILURES = (
    "Out of gas",
    "Invalid opcode",
    "Invalid Jump",
    "Stack underflow",
    "Stack overflow",
    "Insufficient",
)


# --- senders -----------------------------------------------------------------------------------


class Sender(Protocol):
    """Who sends a transaction: its address, and how it gets signed and broadcast."""

    @property
    def address(self) -> str:
        """Checksummed address of the sending account."""
        ...

    def send(self, w3: Web3, tx: TxParams) -> bytes:
        """Sign and broadcast `tx` (which has `to`/`data`/`value`/`gas`); returns the transaction hash."""
        ...


@dataclass(frozen=True, slots=True)
class UnlockedSender:
    """An account the node signs for (`eth_sendTransaction`): a devnet's development accounts."""

    account: str

    @property
    def address(self) -> str:
        return to_checksum_address(self.account)

    def send(self, w3: Web3, tx: TxParams) -> bytes:
        params = cast(TxParams, {**tx, "from": self.address})
        return bytes(w3.eth.send_transaction(params))


@dataclass(frozen=True, slots=True)
class KeySender:
    """A local private key: fills nonce, chain id and fees, signs with eth-account, sends raw bytes.

    On a chain with a base fee (EIP-1559) the fee cap is `max_fee` or twice the latest base fee plus
    the tip; otherwise it sends a legacy transaction at `eth_gasPrice`.
    """

    private_key: bytes = field(repr=False)
    priority_fee: int = 1 * GWEI
    max_fee: int | None = None

    @classmethod
    def from_hex(cls, key: str, **kwargs: Any) -> KeySender:
        text = key[2:] if key.startswith(("0x", "0X")) else key
        return cls(bytes.fromhex(text), **kwargs)

    @property
    def address(self) -> str:
        return str(Account.from_key(self.private_key).address)

    def send(self, w3: Web3, tx: TxParams) -> bytes:
        full: dict[str, Any] = {k: v for k, v in tx.items() if k != "from"}
        full["nonce"] = w3.eth.get_transaction_count(to_checksum_address(self.address), "pending")
        full["chainId"] = w3.eth.chain_id
        base_fee = w3.eth.get_block("latest").get("baseFeePerGas")
        if base_fee is None:
            full["gasPrice"] = w3.eth.gas_price
        else:
            full["maxPriorityFeePerGas"] = self.priority_fee
            full["maxFeePerGas"] = (
                self.max_fee if self.max_fee is not None else 2 * base_fee + self.priority_fee
            )
        signed = Account.sign_transaction(full, self.private_key)
        return bytes(w3.eth.send_raw_transaction(signed.raw_transaction))


# --- revert decoding ---------------------------------------------------------------------------


def _canonical_type(param: Mapping[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


@dataclass(frozen=True, slots=True)
class _ErrorAbi:
    name: str
    types: tuple[str, ...]
    names: tuple[str, ...]


class ErrorDecoder:
    """Maps 4-byte selectors of custom errors (from ABIs) to their names and argument types."""

    def __init__(self, abis: Iterable[Sequence[Mapping[str, Any]]]) -> None:
        self._errors: dict[bytes, _ErrorAbi] = {}
        for abi in abis:
            for entry in abi:
                if entry.get("type") != "error":
                    continue
                types = tuple(_canonical_type(p) for p in entry["inputs"])
                selector = keccak(text=f"{entry['name']}({','.join(types)})")[:4]
                names = tuple(str(p.get("name") or f"arg{i}") for i, p in enumerate(entry["inputs"]))
                self._errors[selector] = _ErrorAbi(str(entry["name"]), types, names)

    def names(self) -> set[str]:
        return {e.name for e in self._errors.values()}

    def decode(self, data: bytes, tx_hash: bytes | None = None, detail: str = "") -> ContractRevert:
        """The exception for revert data `data` (`detail`: the node's message, shown when `data` is empty)."""
        selector, payload = data[:4], data[4:]
        try:
            if selector == _ERROR_STRING:
                (reason,) = abi_decode(["string"], payload)
                return RevertWithReason("Error", {"reason": reason}, data, tx_hash, f"reverted: {reason}")
            if selector == _PANIC:
                (code,) = abi_decode(["uint256"], payload)
                return RevertWithPanic("Panic", {"code": code}, data, tx_hash, f"panic 0x{code:02x}")
            known = self._errors.get(selector)
            if known is not None:
                values = [
                    to_checksum_address(v) if t == "address" else v
                    for t, v in zip(known.types, abi_decode(list(known.types), payload), strict=True)
                ]
                cls: type[ContractRevert] = ContractRevert
                if known.name in CUSTOM_ERRORS:
                    cls = CUSTOM_ERRORS[known.name]
                elif known.name in PROVER_ERRORS:
                    cls = PROVER_ERRORS[known.name]
                return cls(known.name, dict(zip(known.names, values, strict=True)), data, tx_hash)
        except Exception:  # malformed payload: report the raw data
            pass
        if not data:
            message = f"reverted without data ({detail})" if detail else "reverted without data"
            if tx_hash is not None:
                return TransactionReverted("", {}, data, tx_hash, message)
            return ContractRevert("", {}, data, tx_hash, message)
        return ContractRevert("", {}, data, tx_hash)


@cache
def default_decoder() -> ErrorDecoder:
    """A decoder for every custom error of every compiled contract."""
    abis = [json.loads(p.read_text())["abi"] for p in sorted(ARTIFACTS.glob("*.json"))]
    return ErrorDecoder(abis)


def _hex_to_bytes(value: object) -> bytes | None:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return None
    return None


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert data carried by an exception from a web3 call, or None if it is not a revert.

    Understands web3's `ContractLogicError` family (HTTP nodes), `Web3RPCError` with `data`, and
    eth-tester's `TransactionFailed("execution reverted: b'…'")` (in-process tests).
    """
    if isinstance(exc, ContractLogicError):
        data = _hex_to_bytes(exc.data if not isinstance(exc.data, dict) else exc.data.get("data"))
        return data if data is not None else b""
    if isinstance(exc, Web3RPCError):
        response = exc.rpc_response or {}
        error = response.get("error") if isinstance(response, dict) else None
        if isinstance(error, dict):
            data = _hex_to_bytes(error.get("data"))
            if data is not None:
                return data
            if "revert" in str(error.get("message", "")):
                return b""
        return None
    text = str(exc.args[0]) if exc.args else ""
    prefix = "execution reverted: "
    if type(exc).__name__ == "TransactionFailed" and text.startswith(prefix):
        rest = text[len(prefix) :]
        if rest.startswith(("b'", 'b"')):
            try:
                literal = ast.literal_eval(rest)
            except (ValueError, SyntaxError):
                return b""
            return bytes(literal) if isinstance(literal, bytes) else b""
        if rest.startswith(_VM_FAILURES):  # py-evm stopped the call: no revert data
            return b""
        # eth-tester decoded an Error(string) already: re-encode it
        return _ERROR_STRING + abi_encode(["string"], [rest])
    return None


# --- transactions ------------------------------------------------------------------------------


def transact(
    w3: Web3,
    sender: Sender,
    *,
    to: str | None,
    data: bytes,
    gas: int,
    value: int = 0,
    preflight: bool = True,
    timeout: float = 120.0,
    decoder: ErrorDecoder | None = None,
    replay_block: str | int | None = None,
) -> TxReceipt:
    """Send a transaction with gas limit `gas` and return its receipt (status 1).

    `to=None` deploys `data` as init code. With `preflight`, an `eth_call` against the pending state
    first raises the revert the transaction would hit. A mined transaction with status 0 raises the
    decoded revert (replayed with `eth_call` on the state before its block, or at `replay_block`), or
    `TransactionReverted`.
    """
    decoder = decoder or default_decoder()
    tx: dict[str, Any] = {"data": HexBytes(data), "gas": gas, "value": value}
    if to is not None:
        tx["to"] = to_checksum_address(to)
    call = cast(TxParams, {**tx, "from": sender.address})
    if preflight:
        _call_or_raise(w3, call, "pending", decoder, None)
    tx_hash = sender.send(w3, cast(TxParams, tx))
    try:
        receipt = w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=timeout)
    except TimeExhausted as exc:
        raise TransactionTimeout(f"no receipt for 0x{tx_hash.hex()} after {timeout} s") from exc
    if receipt["status"] != 1:
        block = int(receipt["blockNumber"])
        _call_or_raise(
            w3, call, max(block - 1, 0) if replay_block is None else replay_block, decoder, tx_hash
        )
        raise TransactionReverted("", {}, b"", tx_hash, f"transaction ran out of gas or reverted ({gas} gas)")
    return receipt


def _call_or_raise(
    w3: Web3, call: TxParams, block: str | int, decoder: ErrorDecoder, tx_hash: bytes | None
) -> None:
    try:
        w3.eth.call(call, block_identifier=cast(Any, block))
    except Exception as exc:
        data = revert_data(exc)
        if data is None:
            raise
        raise decoder.decode(data, tx_hash, str(exc)) from exc


def call_view(fn: Any, decoder: ErrorDecoder | None = None) -> Any:
    """`fn.call()` of a bound contract function, with reverts raised as `ContractRevert`s."""
    try:
        return fn.call()
    except Exception as exc:
        data = revert_data(exc)
        if data is None:
            raise
        raise (decoder or default_decoder()).decode(data) from exc


class BoundContract:
    """A deployed contract of one of our artifacts: the web3 contract object and the send/call plumbing."""

    ARTIFACT: str = ""

    def __init__(self, w3: Web3, address: str, *, preflight: bool = True, timeout: float = 120.0) -> None:
        from l1_contracts.artifacts import load_artifact

        self.w3 = w3
        self.address = to_checksum_address(address)
        self.contract = w3.eth.contract(address=self.address, abi=load_artifact(self.ARTIFACT).abi)
        self.preflight = preflight
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address})"

    def _call(self, name: str, *args: Any) -> Any:
        return call_view(self.contract.functions[name](*args))

    def decode_call(self, calldata: bytes) -> tuple[str, dict[str, Any]]:
        """The function name and arguments of a transaction input to this contract, read as
        Solidity's decoder reads them; `CalldataUndecodable` when it is no call of a function.

        eth_abi's strict mode (web3's `decode_function_input`) refuses nonzero padding after a `bytes`
        argument, which Solidity ignores: a call the contract accepted (an `appendBatch`, a
        `revealSteps`) must decode here, or any proposer could make every reader of L1 fail."""
        data = bytes(calldata)
        for entry in self.contract.abi:
            if entry.get("type") == "function" and function_abi_to_4byte_selector(entry) == data[:4]:
                fn = cast(Any, entry)
                try:
                    values = abi_decode(get_abi_input_types(fn), data[4:], strict=False)
                except (DecodingError, OverflowError) as exc:  # OverflowError: a length past 2**63
                    raise CalldataUndecodable(f"{fn['name']}: {exc}") from None
                names = [str(n) for n in get_abi_input_names(fn)]
                return str(fn["name"]), dict(zip(names, values, strict=True))
        raise CalldataUndecodable(f"selector 0x{data[:4].hex()} is no function of {type(self).__name__}")

    def _send(self, sender: Sender, name: str, args: Sequence[Any], *, gas: int, value: int = 0) -> TxReceipt:
        data = HexBytes(self.contract.encode_abi(name, args=list(args)))
        return transact(
            self.w3,
            sender,
            to=self.address,
            data=bytes(data),
            gas=gas,
            value=value,
            preflight=self.preflight,
            timeout=self.timeout,
        )

    def _logs(self, event: str, from_block: int, to_block: int | str) -> list[Any]:
        logs = self.contract.events[event]().get_logs(from_block=from_block, to_block=cast(Any, to_block))
        return sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"]))
