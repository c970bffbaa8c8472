"""The devnet's JSON-RPC wire format: results as geth gives them, error objects, reverts.

- quantities as hex, data as 0x-hex (`to_json`), camelCase inside full blocks, `yParity`,
  `logsBloom` (also in receipts), `removed` on logs, no eth-tester-only receipt fields
  (`RESULT_FIXES`, applied after web3.py's own result formatters);
- errors as JSON-RPC error objects, reverts as geth gives them (code 3, "execution reverted: ...",
  the revert data in `data`) so that web3.py raises `ContractCustomError`/`ContractLogicError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from eth.exceptions import OutOfGas, Revert, VMError
from eth_abi import abi
from eth_abi.exceptions import DecodingError
from eth_bloom.bloom import BloomFilter
from eth_tester.exceptions import TransactionFailed
from web3.exceptions import ContractLogicError
from web3.providers.eth_tester.middleware import transaction_result_formatter, transaction_result_remapper

from l1_contracts.errors import DevnetRpcError

ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)

# JSON-RPC 2.0 error codes, and geth's for reverts and rejected transactions.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
EXECUTION_REVERTED = 3


def to_json(value: Any) -> Any:
    """A result in the Ethereum JSON-RPC wire format: ints as hex quantities, bytes as 0x-hex."""
    if value is None or isinstance(value, bool | str | float):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    raise TypeError(f"cannot encode a {type(value).__name__} as JSON-RPC")


def parse_quantity(value: Any, what: str) -> int:
    """A JSON-RPC quantity (0x-hex string, or a plain non-negative integer) as an int."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.startswith(("0x", "0X")):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise DevnetRpcError(INVALID_PARAMS, f"invalid params: {what} must be a hex quantity, got {value!r}")


def revert_reason(data: bytes) -> str | None:
    """The message of an `Error(string)` or `Panic(uint256)` revert, None for any other data."""
    try:
        if data[:4] == ERROR_SELECTOR:
            return str(abi.decode(["string"], data[4:])[0])
        if data[:4] == PANIC_SELECTOR:
            return f"panic: 0x{abi.decode(['uint256'], data[4:])[0]:02x}"
    except DecodingError:
        return None
    return None


def execution_error(exc: BaseException, method: str) -> DevnetRpcError:
    """The JSON-RPC error for a failed execution: geth's code 3 with the data for a revert."""
    cause: Any = exc.args[0] if isinstance(exc, TransactionFailed) and exc.args else exc
    data: bytes | None = None
    if isinstance(cause, Revert):
        data = bytes(cause.args[0]) if cause.args and isinstance(cause.args[0], bytes) else b""
    elif isinstance(cause, bytes | bytearray):
        data = bytes(cause)
    elif isinstance(exc, ContractLogicError) and isinstance(exc.data, str):
        data = bytes.fromhex(exc.data.removeprefix("0x"))
    if data is not None:
        reason = revert_reason(data)
        message = "execution reverted" + (f": {reason}" if reason else "")
        return DevnetRpcError(EXECUTION_REVERTED, message, "0x" + data.hex())
    if isinstance(cause, OutOfGas) and method == "eth_estimateGas":
        return DevnetRpcError(SERVER_ERROR, "gas required exceeds allowance (the block gas limit)")
    if isinstance(cause, VMError):
        return DevnetRpcError(SERVER_ERROR, f"execution failed: {type(cause).__name__}: {cause}")
    return DevnetRpcError(SERVER_ERROR, f"execution failed: {cause}")


def _bloom(logs: Sequence[Mapping[str, Any]]) -> str:
    bloom = BloomFilter()
    for entry in logs:
        bloom.add(bytes.fromhex(str(entry["address"])[2:]))
        for topic in entry["topics"]:
            bloom.add(bytes.fromhex(str(topic)[2:]))
    return "0x" + int(bloom).to_bytes(256, "big").hex()


def _format_transaction(tx: Any) -> Any:
    if not isinstance(tx, Mapping):
        return tx  # a hash, in a block without full transactions
    formatted: dict[str, Any] = dict(transaction_result_formatter(transaction_result_remapper(tx)))
    if "y_parity" in formatted:
        formatted["yParity"] = formatted.pop("y_parity")
    return formatted


def _format_block(block: Any) -> Any:
    if not isinstance(block, Mapping):
        return block
    formatted = dict(block)
    if isinstance(formatted.get("logsBloom"), int):
        formatted["logsBloom"] = formatted["logsBloom"].to_bytes(256, "big")
    formatted["transactions"] = [_format_transaction(tx) for tx in formatted.get("transactions", [])]
    return formatted


def _format_log(entry: Any) -> Any:
    if not isinstance(entry, Mapping):
        return entry  # a block or transaction hash, from a block or pending-transaction filter
    formatted: dict[str, Any] = {key: value for key, value in entry.items() if key != "type"}
    formatted["removed"] = False
    return formatted


def _format_logs(entries: Any) -> Any:
    return [_format_log(entry) for entry in entries] if isinstance(entries, list | tuple) else entries


def _format_receipt(receipt: Any) -> Any:
    if not isinstance(receipt, Mapping):
        return receipt
    formatted = {key: value for key, value in receipt.items() if key != "state_root"}
    if formatted.get("to") == "":
        formatted["to"] = None
    formatted["logs"] = _format_logs(formatted.get("logs", []))
    formatted["logsBloom"] = _bloom(formatted["logs"])
    return formatted


RESULT_FIXES: dict[str, Callable[[Any], Any]] = {
    "eth_getBlockByNumber": _format_block,
    "eth_getBlockByHash": _format_block,
    "eth_getTransactionByHash": _format_transaction,
    "eth_getTransactionByBlockHashAndIndex": _format_transaction,
    "eth_getTransactionByBlockNumberAndIndex": _format_transaction,
    "eth_getTransactionReceipt": _format_receipt,
    "eth_getLogs": _format_logs,
    "eth_getFilterLogs": _format_logs,
    "eth_getFilterChanges": _format_logs,
}


def error_response(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    """A JSON-RPC 2.0 error response; `data` only when given."""
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def dump(response: Any) -> bytes:
    """A response as the compact JSON bytes of an HTTP body."""
    return json.dumps(response, separators=(",", ":")).encode()
