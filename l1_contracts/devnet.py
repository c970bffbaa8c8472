"""The embedded Ethereum devnet: an eth-tester/py-evm chain (Prague) served over HTTP JSON-RPC.

    python -m l1_contracts.devnet --port 8545 --chain-id 31337 --block-gas-limit 1000000000

The Ethereum semantics are web3.py's `EthereumTesterProvider`: its table of `eth_*`, `net_*`,
`web3_*` and `evm_*` endpoints over eth-tester, with the request and result formatters of its
middleware (JSON-RPC arguments to eth-tester's and back). This module is the transport around it
(JSON-RPC 2.0 over HTTP, single and batch requests, error objects) plus what the provider lacks or
gets wrong for a node that other processes talk to:

- `eth_chainId`, `net_version`: the configured chain id (the provider returns eth-tester's fixed one).
- `eth_feeHistory`: computed from the blocks (the provider's is empty for the newest block and says
  the oldest block is always 1); `eth_gasPrice`: the next block's base fee plus the 1 gwei tip.
- results in the wire format: quantities as hex, data as 0x-hex, camelCase inside full blocks,
  `yParity`, `logsBloom` (also in receipts), `removed` on logs, no eth-tester-only receipt fields.
- errors as JSON-RPC error objects, reverts as geth gives them (code 3, "execution reverted: ...",
  the revert data in `data`) so that web3.py raises `ContractCustomError`/`ContractLogicError`.
- `eth_sendTransaction` without `gas` is estimated (eth-tester requires it); `eth_call` and
  `eth_estimateGas` without `from` run from the zero address; `input` is accepted for `data`.
- `eth_sendRawTransaction` rejects a transaction signed for another chain id.
- block timestamps follow the wall clock; `evm_increaseTime`, `evm_setNextBlockTimestamp` and
  `evm_mine` (anvil's and hardhat's names) move them for tests. The rollup never calls these.

Every transaction is mined into its own block at once, and with a block interval (the command's
default, 1 s) an empty block is mined whenever the head is older than the clock, so that a follower
waiting for confirmations sees the chain move while nobody sends transactions. eth-tester is not
thread-safe: one lock serialises all requests and the block timer.

Before any body is parsed, the HTTP server refuses one over `max_body_bytes` (413) or nested deeper
than `max_json_depth` (400), with a JSON-RPC error object (`service.jsonlimits`). The body limit
admits the largest transaction a block can hold: Prague's EIP-7623 floor makes every calldata byte
cost at least 10 gas, so a transaction carries at most (block gas limit - 21,000) / 10 bytes, sent
as hex; 200 MB for the default 10^9 gas, and never less than geth's 5 MiB.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import signal
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version as package_version
from types import FrameType, TracebackType
from typing import Any

from eth.exceptions import OutOfGas, Revert, VMError
from eth_abi import abi
from eth_abi.exceptions import DecodingError
from eth_bloom.bloom import BloomFilter
from eth_tester import EthereumTester
from eth_tester.backends.pyevm.main import get_account_keys_from_mnemonic
from eth_tester.exceptions import TransactionFailed
from eth_tester.exceptions import ValidationError as TesterValidationError
from eth_utils.address import to_checksum_address
from eth_utils.exceptions import ValidationError as EVMValidationError
from web3.exceptions import ContractLogicError
from web3.providers.eth_tester import EthereumTesterProvider
from web3.providers.eth_tester.middleware import (
    request_formatters,
    result_formatters,
    transaction_result_formatter,
    transaction_result_remapper,
)

from l1_contracts.devnet_chain import DEV_HD_PATH, DEV_MNEMONIC, EVM_FORK, DevnetBackend
from l1_contracts.devnet_timer import BlockTimer
from l1_contracts.errors import DevnetConfigError, DevnetError, DevnetRpcError, PortInUseError
from service.errors import BodyRefused, BodyTooLarge
from service.jsonlimits import DEFAULT_MAX_DEPTH, check_json_body
from service.recursion import cap_recursion_limit

log = logging.getLogger(__name__)

PRIORITY_FEE_WEI = 10**9  # the tip the provider suggests (eth_maxPriorityFeePerGas)
DEFAULT_BLOCK_INTERVAL_S = 1.0  # `mlrollup devnet`'s; a DevnetConfig mines only on demand by default
TX_BASE_GAS = 21_000
FLOOR_GAS_PER_BYTE = 10  # EIP-7623: a zero calldata byte costs at least this much, a non-zero one 40
TX_ENVELOPE_BYTES = 2**10  # a transaction's fields and signature around its data, with room to spare
GETH_MAX_BODY_BYTES = 5 * 2**20  # geth's HTTP JSON-RPC body limit: batches of ordinary requests fit
ZERO_ADDRESS = "0x" + "00" * 20
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

# Methods whose trailing block parameter may be left out (it is then "latest"), with their arity.
BLOCK_PARAM_ARITY = {"eth_getBalance": 2, "eth_getCode": 2, "eth_getTransactionCount": 2, "eth_call": 2}
TX_PARAM_METHODS = {"eth_call", "eth_estimateGas", "eth_sendTransaction"}


def largest_tx_bytes(block_gas_limit: int) -> int:
    """The largest transaction (raw bytes) a block of `block_gas_limit` gas holds on Prague."""
    return max(0, block_gas_limit - TX_BASE_GAS) // FLOOR_GAS_PER_BYTE + TX_ENVELOPE_BYTES


def default_max_body_bytes(block_gas_limit: int) -> int:
    """The HTTP body limit admitting an `eth_sendRawTransaction` of the largest transaction (as hex)."""
    return max(GETH_MAX_BODY_BYTES, 2 * largest_tx_bytes(block_gas_limit) + 2**16)


@dataclass(frozen=True)
class DevnetConfig:
    """Settings of a devnet. `port=0` picks a free port. `block_interval_s=0` (the default here, which
    tests that count blocks rely on) mines only on a transaction or `evm_mine`; `max_body_bytes=None`
    sizes the body limit from the block gas limit (`default_max_body_bytes`)."""

    host: str = "127.0.0.1"
    port: int = 8545
    chain_id: int = 31337
    block_gas_limit: int = 1_000_000_000
    accounts: int = 10
    balance_eth: int = 10_000
    block_interval_s: float = 0.0
    max_body_bytes: int | None = None
    max_json_depth: int = DEFAULT_MAX_DEPTH

    def __post_init__(self) -> None:
        checks = [
            (bool(self.host), "host must not be empty"),
            (0 <= self.port <= 65_535, f"port {self.port} is not in 0..65535 (0 picks a free one)"),
            (1 <= self.chain_id < 2**63, f"chain id {self.chain_id} is not in 1..2**63-1"),
            (
                21_000 <= self.block_gas_limit < 2**63,
                f"block gas limit {self.block_gas_limit} is not in 21000..2**63-1",
            ),
            (1 <= self.accounts <= 1_000, f"accounts {self.accounts} is not in 1..1000"),
            (0 <= self.balance_eth <= 10**12, f"balance {self.balance_eth} ETH is not in 0..10**12"),
            (
                0 <= self.block_interval_s <= 3_600,
                f"block interval {self.block_interval_s} s is not in 0..3600 (0 turns it off)",
            ),
            (
                self.max_body_bytes is None or 2**10 <= self.max_body_bytes <= 2**32,
                f"max body bytes {self.max_body_bytes} is not in 1024..2**32",
            ),
            (1 <= self.max_json_depth <= 1_000, f"max JSON depth {self.max_json_depth} is not in 1..1000"),
        ]
        for ok, problem in checks:
            if not ok:
                raise DevnetConfigError(f"invalid devnet setting: {problem}")

    @property
    def body_limit(self) -> int:
        """The largest HTTP body served: `max_body_bytes`, or the one sized from the gas limit."""
        if self.max_body_bytes is not None:
            return self.max_body_bytes
        return default_max_body_bytes(self.block_gas_limit)


@dataclass(frozen=True)
class DevAccount:
    """A funded development account: checksum address and 0x-hex private key."""

    address: str
    private_key: str


def dev_accounts(count: int = 10) -> list[DevAccount]:
    """The devnet's first `count` accounts, from the public test mnemonic (anvil's and hardhat's).

    The same in every process, so a deploy script can use them without asking the devnet. Public
    keys: never send real funds to them."""
    keys = get_account_keys_from_mnemonic(DEV_MNEMONIC, quantity=count, hd_path=DEV_HD_PATH)
    return [
        DevAccount(to_checksum_address(key.public_key.to_canonical_address()), key.to_hex()) for key in keys
    ]


# -- wire format helpers ---------------------------------------------------------------------------


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


def _error(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def _dump(response: Any) -> bytes:
    return json.dumps(response, separators=(",", ":")).encode()


# -- the devnet ------------------------------------------------------------------------------------


class Devnet:
    """An in-process chain and its JSON-RPC dispatch: `handle` takes one HTTP body, returns one."""

    def __init__(self, config: DevnetConfig | None = None) -> None:
        self.config = config or DevnetConfig()
        self._backend = DevnetBackend(
            chain_id=self.config.chain_id,
            block_gas_limit=self.config.block_gas_limit,
            accounts=self.config.accounts,
            balance_wei=self.config.balance_eth * 10**18,
        )
        self._tester = EthereumTester(self._backend)  # auto-mines: a block per transaction
        self._provider = EthereumTesterProvider(self._tester)
        self._lock = threading.Lock()
        self.accounts: list[DevAccount] = dev_accounts(self.config.accounts)
        self._own: dict[str, Callable[[list[Any]], Any]] = {
            "eth_chainId": lambda _params: hex(self.config.chain_id),
            "net_version": lambda _params: str(self.config.chain_id),
            "net_listening": lambda _params: True,
            "web3_clientVersion": lambda _params: self.client_version,
            "eth_gasPrice": lambda _params: hex(
                self._backend.chain.header.base_fee_per_gas + PRIORITY_FEE_WEI
            ),
            "eth_feeHistory": self._fee_history,
            "eth_sendRawTransaction": self._send_raw_transaction,
            "eth_sendTransaction": self._send_transaction,
            "evm_increaseTime": self._increase_time,
            "evm_setNextBlockTimestamp": self._set_next_block_timestamp,
            "evm_mine": self._mine,
        }

    @property
    def client_version(self) -> str:
        return (
            f"mlrollup-devnet/py-evm-{package_version('py-evm')}/eth-tester-{package_version('eth-tester')}"
            f"/{EVM_FORK}/python-{sys.version_info.major}.{sys.version_info.minor}"
        )

    # -- entry points ------------------------------------------------------------------------------

    def handle(self, payload: bytes) -> bytes:
        """Answer one JSON-RPC 2.0 body (a request or a batch); b"" when it held only notifications."""
        try:
            message = json.loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # the HTTP server checks depth first
            return _dump(_error(None, PARSE_ERROR, f"parse error: {exc}"))
        if isinstance(message, list):
            if not message:
                return _dump(_error(None, INVALID_REQUEST, "invalid request: empty batch"))
            with self._lock:
                responses = [response for response in map(self._handle_one, message) if response is not None]
            return _dump(responses) if responses else b""
        with self._lock:
            response = self._handle_one(message)
        return _dump(response) if response is not None else b""

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        """Call one method in-process: its JSON result, or `DevnetRpcError`."""
        with self._lock:
            return self._dispatch(method, list(params))

    def mine_idle_block(self) -> bool:
        """Mine an empty block if the head is older than the chain's clock; returns whether it did.

        The block timer calls it. It leaves the chain alone when the head is already at the clock
        (blocks of transactions sent within the second, which take the parent's timestamp + 1,
        would otherwise keep the chain ahead of the clock) and when a test pinned the next block's
        timestamp for its own transaction."""
        with self._lock:
            backend = self._backend
            if backend.next_timestamp_pinned:
                return False
            if backend.chain.get_canonical_head().timestamp >= backend.clock():
                return False
            backend.stamp_pending_block()
            self._tester.mine_blocks(1)
            return True

    # -- JSON-RPC ----------------------------------------------------------------------------------

    def _handle_one(self, request: Any) -> dict[str, Any] | None:
        if not isinstance(request, dict):
            return _error(None, INVALID_REQUEST, "invalid request: expected a JSON object")
        request_id = request.get("id")
        if isinstance(request_id, bool) or not isinstance(request_id, str | int | float | None):
            return _error(None, INVALID_REQUEST, "invalid request: id must be a string, number or null")
        if request.get("jsonrpc") != "2.0":
            return _error(request_id, INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"')
        method = request.get("method")
        if not isinstance(method, str):
            return _error(request_id, INVALID_REQUEST, 'invalid request: "method" must be a string')
        params = request.get("params", [])
        started = time.perf_counter()
        try:
            if not isinstance(params, list):
                raise DevnetRpcError(INVALID_PARAMS, 'invalid params: "params" must be an array')
            response = {"jsonrpc": "2.0", "id": request_id, "result": self._dispatch(method, params)}
        except DevnetRpcError as exc:
            response = _error(request_id, exc.code, exc.message, exc.data)
        except Exception as exc:  # a bug here must not take the connection down with it
            log.exception("%s failed", method)
            response = _error(request_id, INTERNAL_ERROR, f"internal error in {method}: {type(exc).__name__}")
        log.debug(
            "%s %s in %.1f ms",
            method,
            "ok" if "result" in response else f"error {response['error']['code']}",
            1000 * (time.perf_counter() - started),
        )
        return response if "id" in request else None  # no response to a notification

    def _dispatch(self, method: str, params: list[Any]) -> Any:
        if "pending" in params:
            self._backend.stamp_pending_block()  # what runs on the pending block sees the current time
        own = self._own.get(method)
        if own is not None:
            return own(params)
        return self._via_provider(method, params)

    def _via_provider(self, method: str, params: list[Any]) -> Any:
        namespace, _, endpoint = method.partition("_")
        delegator = (self._provider.api_endpoints or {}).get(namespace, {}).get(endpoint)
        if delegator is None:
            raise DevnetRpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
        params = self._complete_params(method, params)
        formatter = request_formatters.get(method)  # type: ignore[call-overload]
        try:
            formatted = formatter(params) if formatter is not None else params
        except (TypeError, ValueError, IndexError, KeyError) as exc:
            raise DevnetRpcError(INVALID_PARAMS, f"invalid params for {method}: {exc}") from exc
        try:
            result = delegator(self._tester, formatted)
        except NotImplementedError as exc:
            raise DevnetRpcError(
                METHOD_NOT_FOUND, f"the method {method} is not supported by the devnet"
            ) from exc
        except (TransactionFailed, ContractLogicError, VMError) as exc:
            raise execution_error(exc, method) from exc
        except EVMValidationError as exc:  # rejected by py-evm: nonce, funds, intrinsic gas
            raise DevnetRpcError(SERVER_ERROR, str(exc)) from exc
        except (TesterValidationError, TypeError, ValueError, IndexError, KeyError) as exc:
            raise DevnetRpcError(INVALID_PARAMS, f"invalid params for {method}: {exc}") from exc
        except Exception as exc:
            log.exception("%s failed", method)
            raise DevnetRpcError(
                INTERNAL_ERROR, f"internal error in {method}: {type(exc).__name__}: {exc}"
            ) from exc
        result_formatter = (result_formatters or {}).get(method)  # type: ignore[call-overload]
        if result_formatter is not None:
            result = result_formatter(result)
        fix = RESULT_FIXES.get(method)
        return to_json(fix(result) if fix is not None else result)

    def _complete_params(self, method: str, params: list[Any]) -> list[Any]:
        """Defaults that geth applies and eth-tester lacks."""
        arity = BLOCK_PARAM_ARITY.get(method)
        if arity is not None and len(params) == arity - 1:
            params = [*params, "latest"]
        if method == "eth_estimateGas" and len(params) > 1 and params[1] == "pending":
            params = [params[0], "latest"]  # the pending block is always empty: same state
        if method in TX_PARAM_METHODS and params and isinstance(params[0], dict):
            tx = {key: value for key, value in params[0].items() if value is not None}
            if "input" in tx:
                data = tx.pop("input")
                tx.setdefault("data", data)
            if method != "eth_sendTransaction":
                tx.setdefault("from", ZERO_ADDRESS)
            if "maxFeePerGas" in tx and "maxPriorityFeePerGas" not in tx:  # eth-tester needs both
                tx["maxPriorityFeePerGas"] = hex(
                    min(PRIORITY_FEE_WEI, parse_quantity(tx["maxFeePerGas"], "fee"))
                )
            params = [tx, *params[1:]]
        return params

    # -- methods the devnet answers itself ---------------------------------------------------------

    def _send_raw_transaction(self, params: list[Any]) -> Any:
        if len(params) != 1 or not isinstance(params[0], str):
            raise DevnetRpcError(INVALID_PARAMS, "invalid params: expected [signed transaction as 0x-hex]")
        try:
            raw = bytes.fromhex(params[0].removeprefix("0x"))
            transaction = self._backend.chain.get_vm().get_transaction_builder().decode(raw)
        except Exception as exc:
            raise DevnetRpcError(
                INVALID_PARAMS, f"invalid params: cannot decode the transaction: {exc}"
            ) from exc
        chain_id = getattr(transaction, "chain_id", None)
        if chain_id is not None and chain_id != self.config.chain_id:
            raise DevnetRpcError(
                SERVER_ERROR,
                f"invalid chain id: the transaction is signed for chain {chain_id}, "
                f"this devnet is chain {self.config.chain_id}",
            )
        self._backend.stamp_pending_block()
        return self._via_provider("eth_sendRawTransaction", params)

    def _send_transaction(self, params: list[Any]) -> Any:
        if not params or not isinstance(params[0], dict):
            raise DevnetRpcError(INVALID_PARAMS, "invalid params: expected [transaction object]")
        tx = {key: value for key, value in params[0].items() if value is not None}
        if not any(key in tx for key in ("gasPrice", "maxFeePerGas", "maxPriorityFeePerGas")):
            # geth's defaults: the suggested tip, and room for the base fee to double.
            base_fee = self._backend.chain.header.base_fee_per_gas
            tx["maxPriorityFeePerGas"] = hex(PRIORITY_FEE_WEI)
            tx["maxFeePerGas"] = hex(2 * base_fee + PRIORITY_FEE_WEI)
        if "gas" not in tx:
            tx["gas"] = self._via_provider("eth_estimateGas", [tx])
        self._backend.stamp_pending_block()
        return self._via_provider("eth_sendTransaction", [tx])

    def _fee_history(self, params: list[Any]) -> Any:
        """eth_feeHistory as geth answers it: base fees of the range and of the next block, gas used
        ratios, and with percentiles the effective tips of each block at those gas-weighted ranks."""
        if not 2 <= len(params) <= 3:
            raise DevnetRpcError(
                INVALID_PARAMS, "invalid params: expected [blockCount, newestBlock, percentiles?]"
            )
        count = parse_quantity(params[0], "blockCount")
        chain = self._backend.chain
        head = chain.get_canonical_head().block_number
        newest = params[1]
        if newest in ("latest", "safe", "finalized", "pending"):
            newest_number = head
        elif newest == "earliest":
            newest_number = 0
        else:
            newest_number = parse_quantity(newest, "newestBlock")
            if newest_number > head:
                raise DevnetRpcError(
                    INVALID_PARAMS, f"invalid params: block {newest_number} is beyond the head {head}"
                )
        percentiles = params[2] if len(params) == 3 else None
        if percentiles is not None and (
            not isinstance(percentiles, list)
            or not all(
                isinstance(p, int | float) and not isinstance(p, bool) and 0 <= p <= 100 for p in percentiles
            )
            or percentiles != sorted(percentiles)
        ):
            raise DevnetRpcError(
                INVALID_PARAMS, "invalid params: percentiles must be ascending numbers in 0..100"
            )
        count = min(count, 1024, newest_number + 1)
        oldest = newest_number - count + 1
        base_fees: list[int] = []
        ratios: list[float] = []
        rewards: list[list[int]] = []
        for number in range(oldest, newest_number + 1):
            block = chain.get_canonical_block_by_number(number)
            header = block.header
            base_fees.append(header.base_fee_per_gas)
            ratios.append(header.gas_used / header.gas_limit)
            if percentiles is not None:
                rewards.append(self._block_rewards(block, percentiles))
        if count:
            following = (
                chain.header
                if newest_number == head
                else chain.get_canonical_block_header_by_number(newest_number + 1)
            )
            base_fees.append(following.base_fee_per_gas)
        result: dict[str, Any] = {
            "oldestBlock": hex(oldest if count else 0),
            "baseFeePerGas": [hex(fee) for fee in base_fees],
            "gasUsedRatio": ratios,
        }
        if percentiles is not None:
            result["reward"] = [[hex(tip) for tip in tips] for tips in rewards]
        return result

    def _block_rewards(self, block: Any, percentiles: list[float]) -> list[int]:
        if not block.transactions:
            return [0 for _ in percentiles]
        base_fee = block.header.base_fee_per_gas
        receipts = block.get_receipts(self._backend.chain.chaindb)
        previous = 0
        sorter: list[tuple[int, int]] = []
        for transaction, receipt in zip(block.transactions, receipts, strict=True):
            gas_used, previous = receipt.gas_used - previous, receipt.gas_used
            tip = min(transaction.max_priority_fee_per_gas, transaction.max_fee_per_gas - base_fee)
            sorter.append((tip, gas_used))
        sorter.sort()
        tips: list[int] = []
        index, cumulative = 0, sorter[0][1]
        for percentile in percentiles:
            threshold = block.header.gas_used * percentile / 100
            while cumulative < threshold and index < len(sorter) - 1:
                index += 1
                cumulative += sorter[index][1]
            tips.append(sorter[index][0])
        return tips

    def _increase_time(self, params: list[Any]) -> Any:
        if len(params) != 1:
            raise DevnetRpcError(INVALID_PARAMS, "invalid params: expected [seconds]")
        self._backend.time_offset += parse_quantity(params[0], "seconds")
        return hex(self._backend.time_offset)

    def _set_next_block_timestamp(self, params: list[Any]) -> Any:
        if len(params) != 1:
            raise DevnetRpcError(INVALID_PARAMS, "invalid params: expected [timestamp]")
        self._backend.pin_timestamp(self._future_timestamp(params[0]))
        return None

    def _mine(self, params: list[Any]) -> Any:
        if len(params) > 1:
            raise DevnetRpcError(INVALID_PARAMS, "invalid params: expected [timestamp?]")
        if params and params[0] is not None:
            self._backend.pin_timestamp(self._future_timestamp(params[0]))
        self._backend.stamp_pending_block()
        self._tester.mine_blocks(1)
        return "0x0"

    def _future_timestamp(self, value: Any) -> int:
        timestamp = parse_quantity(value, "timestamp")
        head = self._backend.chain.get_canonical_head().timestamp
        if timestamp <= head:
            raise DevnetRpcError(
                INVALID_PARAMS, f"invalid params: timestamp {timestamp} is not after the head block's {head}"
            )
        return timestamp


# -- HTTP ------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: web3's HTTPProvider reuses its connection
    server: _DevnetHTTPServer

    def do_POST(self) -> None:
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.isdigit():
            self._reply(411, _dump(_error(None, INVALID_REQUEST, "a Content-Length header is required")))
            return
        config = self.server.devnet.config
        length = int(length_header)
        try:
            if length > config.body_limit:  # refused unread: the connection cannot carry another request
                self.close_connection = True
                raise BodyTooLarge(f"the request body exceeds {config.body_limit} bytes", config.body_limit)
            body = self.rfile.read(length)
            check_json_body(body, max_bytes=config.body_limit, max_depth=config.max_json_depth)
        except BodyRefused as exc:
            code = INVALID_REQUEST if isinstance(exc, BodyTooLarge) else PARSE_ERROR
            data = {"reason": exc.code, "limit": exc.limit}
            self._reply(exc.status, _dump(_error(None, code, exc.message, data)))
            return
        answer = self.server.devnet.handle(body)
        self._reply(200 if answer else 204, answer)

    def do_GET(self) -> None:
        self._reply(405, _dump({"error": "POST JSON-RPC 2.0 requests to this URL"}), allow="POST")

    def _reply(self, status: int, body: bytes, allow: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if allow is not None:
            self.send_header("Allow", allow)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _DevnetHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a connection left open by a client does not block shutdown

    def __init__(self, address: tuple[str, int], devnet: Devnet) -> None:
        self.devnet = devnet
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("client %s went away", client_address)  # e.g. a client that timed out
        else:
            super().handle_error(request, client_address)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def url(self) -> str:
        return f"http://{self.server_name}:{self.server_port}"


def _bind(config: DevnetConfig, devnet: Devnet) -> _DevnetHTTPServer:
    try:
        return _DevnetHTTPServer((config.host, config.port), devnet)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(config.host, config.port) from exc
        raise DevnetError(
            f"cannot serve the devnet on {config.host}:{config.port}: {exc.strerror or exc}. "
            "Check the --host and --port settings."
        ) from exc


def serve(config: DevnetConfig | None = None, ready: Callable[[str], None] | None = None) -> None:
    """Serve a new devnet until SIGINT or SIGTERM (blocking). `ready(url)` is called once listening.

    Raises `PortInUseError` (or another `DevnetError`) when the address cannot be bound."""
    config = config or DevnetConfig()
    devnet = Devnet(config)
    httpd = _bind(config, devnet)
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def stop(signum: int, frame: FrameType | None) -> None:
            # shutdown() waits for serve_forever() to return, which runs in this very thread.
            threading.Thread(target=httpd.shutdown, name="devnet-shutdown", daemon=True).start()

        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            previous[stop_signal] = signal.signal(stop_signal, stop)
    timer = BlockTimer(devnet.mine_idle_block, config.block_interval_s) if config.block_interval_s else None
    try:
        if timer is not None:
            timer.start()
        if ready is not None:
            ready(httpd.url)
        httpd.serve_forever(poll_interval=0.1)
    finally:
        if timer is not None:
            timer.stop()
        httpd.server_close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class DevnetServer:
    """A devnet served from a background thread, for tests and for `mlrollup up`: `with
    DevnetServer() as node: Web3(Web3.HTTPProvider(node.url))`. Without a config it takes a free port.
    `start()` raises `PortInUseError` at once when the port is taken."""

    def __init__(self, config: DevnetConfig | None = None) -> None:
        self.config = config or DevnetConfig(port=0)
        self.devnet: Devnet | None = None
        self.url = ""
        self._httpd: _DevnetHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timer: BlockTimer | None = None

    def start(self) -> DevnetServer:
        if self._httpd is not None:
            raise DevnetError("this DevnetServer is already running")
        self.devnet = Devnet(self.config)
        self._httpd = _bind(self.config, self.devnet)
        self.url = self._httpd.url
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="devnet-http", daemon=True
        )
        self._thread.start()
        if self.config.block_interval_s:
            self._timer = BlockTimer(self.devnet.mine_idle_block, self.config.block_interval_s).start()
        return self

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._httpd, self._thread = None, None

    @property
    def accounts(self) -> list[DevAccount]:
        return self.devnet.accounts if self.devnet is not None else dev_accounts(self.config.accounts)

    def __enter__(self) -> DevnetServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


# -- command line ----------------------------------------------------------------------------------


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


if __name__ == "__main__":
    raise SystemExit(main())
