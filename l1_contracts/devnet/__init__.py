"""The embedded Ethereum devnet: an eth-tester/py-evm chain (Prague) served over HTTP JSON-RPC.

    python -m l1_contracts.devnet --port 8545 --chain-id 31337 --block-gas-limit 1000000000

Every transaction is mined into its own block at once, and with a block interval (the command's
default, 1 s) an empty block is mined whenever the head is older than the clock, so that a follower
waiting for confirmations sees the chain move while nobody sends transactions.

Modules, each with one job:

- `config.py`: `DevnetConfig`, the settings and their checks, and the body limit sized from the
  block gas limit; `accounts.py`: the funded dev accounts of the public test mnemonic.
- `chain.py`: `DevnetBackend`, eth-tester's py-evm backend configured and patched where it falls
  short (gas estimation, revert data, lookups by hash, block timestamps).
- `wire.py`: the JSON-RPC wire format: results as geth gives them, error objects, reverts.
- `rpc.py`: `Devnet`, the chain and its JSON-RPC dispatch over web3.py's `EthereumTesterProvider`,
  with the methods the devnet answers itself; `feehistory.py`: `eth_feeHistory`.
- `timer.py`: `BlockTimer`, an empty block on an interval.
- `server.py`: the HTTP server with its body limits: `serve` (blocking) and `DevnetServer` (a
  background thread).
- `cli.py`: `mlrollup devnet` (`main`), also run by `python -m l1_contracts.devnet`.
"""

from l1_contracts.devnet.accounts import DEV_HD_PATH, DEV_MNEMONIC, DevAccount, dev_accounts
from l1_contracts.devnet.chain import EVM_FORK, DevnetBackend
from l1_contracts.devnet.cli import main
from l1_contracts.devnet.config import (
    DEFAULT_BLOCK_INTERVAL_S,
    FLOOR_GAS_PER_BYTE,
    GETH_MAX_BODY_BYTES,
    TX_BASE_GAS,
    DevnetConfig,
    default_max_body_bytes,
    largest_tx_bytes,
)
from l1_contracts.devnet.rpc import Devnet
from l1_contracts.devnet.server import DevnetServer, serve
from l1_contracts.devnet.timer import BlockTimer
from l1_contracts.devnet.wire import execution_error, parse_quantity, revert_reason, to_json

__all__ = [
    "DEFAULT_BLOCK_INTERVAL_S",
    "DEV_HD_PATH",
    "DEV_MNEMONIC",
    "EVM_FORK",
    "FLOOR_GAS_PER_BYTE",
    "GETH_MAX_BODY_BYTES",
    "TX_BASE_GAS",
    "BlockTimer",
    "DevAccount",
    "Devnet",
    "DevnetBackend",
    "DevnetConfig",
    "DevnetServer",
    "default_max_body_bytes",
    "dev_accounts",
    "execution_error",
    "largest_tx_bytes",
    "main",
    "parse_quantity",
    "revert_reason",
    "serve",
    "to_json",
]
