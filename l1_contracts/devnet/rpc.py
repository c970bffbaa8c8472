"""The devnet: an in-process eth-tester/py-evm chain and its JSON-RPC 2.0 dispatch (`Devnet`).

The Ethereum semantics are web3.py's `EthereumTesterProvider`: its table of `eth_*`, `net_*`,
`web3_*` and `evm_*` endpoints over eth-tester, with the request and result formatters of its
middleware (JSON-RPC arguments to eth-tester's and back). `Devnet` answers single and batch
requests through it, plus what the provider lacks or gets wrong for a node that other processes
talk to:

- `eth_chainId`, `net_version`: the configured chain id (the provider returns eth-tester's fixed one).
- `eth_feeHistory` (`feehistory.py`); `eth_gasPrice`: the next block's base fee plus the 1 gwei tip.
- `eth_sendTransaction` without `gas` is estimated (eth-tester requires it); `eth_call` and
  `eth_estimateGas` without `from` run from the zero address; `input` is accepted for `data`.
- `eth_sendRawTransaction` rejects a transaction signed for another chain id.
- block timestamps follow the wall clock; `evm_increaseTime`, `evm_setNextBlockTimestamp` and
  `evm_mine` (anvil's and hardhat's names) move them for tests. The rollup never calls these.

Results and errors take the wire format of `wire.py`. eth-tester is not thread-safe: one lock
serialises all requests and the block timer (`mine_idle_block`).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version as package_version
from typing import Any

from eth.exceptions import VMError
from eth_tester import EthereumTester
from eth_tester.exceptions import TransactionFailed
from eth_tester.exceptions import ValidationError as TesterValidationError
from eth_utils.exceptions import ValidationError as EVMValidationError
from web3.exceptions import ContractLogicError
from web3.providers.eth_tester import EthereumTesterProvider
from web3.providers.eth_tester.middleware import request_formatters, result_formatters

from l1_contracts.devnet.accounts import DevAccount, dev_accounts
from l1_contracts.devnet.chain import EVM_FORK, DevnetBackend
from l1_contracts.devnet.config import DevnetConfig
from l1_contracts.devnet.feehistory import fee_history
from l1_contracts.devnet.wire import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RESULT_FIXES,
    SERVER_ERROR,
    dump,
    error_response,
    execution_error,
    parse_quantity,
    to_json,
)
from l1_contracts.errors import DevnetRpcError

log = logging.getLogger(__name__)

PRIORITY_FEE_WEI = 10**9  # the tip the provider suggests (eth_maxPriorityFeePerGas)
ZERO_ADDRESS = "0x" + "00" * 20

# Methods whose trailing block parameter may be left out (it is then "latest"), with their arity.
BLOCK_PARAM_ARITY = {"eth_getBalance": 2, "eth_getCode": 2, "eth_getTransactionCount": 2, "eth_call": 2}
TX_PARAM_METHODS = {"eth_call", "eth_estimateGas", "eth_sendTransaction"}


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
            "eth_feeHistory": lambda params: fee_history(self._backend.chain, params),
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
            return dump(error_response(None, PARSE_ERROR, f"parse error: {exc}"))
        if isinstance(message, list):
            if not message:
                return dump(error_response(None, INVALID_REQUEST, "invalid request: empty batch"))
            with self._lock:
                responses = [response for response in map(self._handle_one, message) if response is not None]
            return dump(responses) if responses else b""
        with self._lock:
            response = self._handle_one(message)
        return dump(response) if response is not None else b""

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
            return error_response(None, INVALID_REQUEST, "invalid request: expected a JSON object")
        request_id = request.get("id")
        if isinstance(request_id, bool) or not isinstance(request_id, str | int | float | None):
            return error_response(
                None, INVALID_REQUEST, "invalid request: id must be a string, number or null"
            )
        if request.get("jsonrpc") != "2.0":
            return error_response(request_id, INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"')
        method = request.get("method")
        if not isinstance(method, str):
            return error_response(request_id, INVALID_REQUEST, 'invalid request: "method" must be a string')
        params = request.get("params", [])
        started = time.perf_counter()
        try:
            if not isinstance(params, list):
                raise DevnetRpcError(INVALID_PARAMS, 'invalid params: "params" must be an array')
            response = {"jsonrpc": "2.0", "id": request_id, "result": self._dispatch(method, params)}
        except DevnetRpcError as exc:
            response = error_response(request_id, exc.code, exc.message, exc.data)
        except Exception as exc:  # a bug here must not take the connection down with it
            log.exception("%s failed", method)
            response = error_response(
                request_id, INTERNAL_ERROR, f"internal error in {method}: {type(exc).__name__}"
            )
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
