"""A devnet's settings (`DevnetConfig`) and the request body limit sized from its block gas limit.

The body limit admits the largest transaction a block can hold: Prague's EIP-7623 floor makes every
calldata byte cost at least 10 gas, so a transaction carries at most (block gas limit - 21,000) / 10
bytes, sent as hex; 200 MB for the default 10^9 gas, and never less than geth's 5 MiB.
"""

from __future__ import annotations

from dataclasses import dataclass

from l1_contracts.errors import DevnetConfigError
from service.jsonlimits import DEFAULT_MAX_DEPTH

DEFAULT_BLOCK_INTERVAL_S = 1.0  # `mlrollup devnet`'s; a DevnetConfig mines only on demand by default
TX_BASE_GAS = 21_000
FLOOR_GAS_PER_BYTE = 10  # EIP-7623: a zero calldata byte costs at least this much, a non-zero one 40
TX_ENVELOPE_BYTES = 2**10  # a transaction's fields and signature around its data, with room to spare
GETH_MAX_BODY_BYTES = 5 * 2**20  # geth's HTTP JSON-RPC body limit: batches of ordinary requests fit


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
