"""The rules every figure of the gas bench is computed with: calldata floors, prices, the
share-by-bytes accounting of a batch's L1 gas, and the linear extrapolation (always marked)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

PAPER_GWEI = Decimal(20)
PAPER_ETH_USD = Decimal(1742)
TX_BASE_GAS = 21_000
BLOCK_GAS_LIMIT = 30_000_000  # Ethereum's block gas limit (the paper's era and the twins' bound)


def calldata_cost(data: bytes) -> int:
    """The standard calldata cost: 16 gas a non-zero byte, 4 a zero byte (EIP-2028)."""
    zeros = data.count(0)
    return 16 * (len(data) - zeros) + 4 * zeros


def tokens(data: bytes) -> int:
    """EIP-7623's calldata tokens: 4 a non-zero byte, 1 a zero byte."""
    zeros = data.count(0)
    return 4 * (len(data) - zeros) + zeros


def floor_7623(data: bytes) -> int:
    """Prague's EIP-7623 floor on the data alone: 10 gas a token (no 21,000 base)."""
    return 10 * tokens(data)


def usd(gas: float, gwei: Decimal = PAPER_GWEI, eth_usd: Decimal = PAPER_ETH_USD) -> Decimal:
    """The price of `gas` at `gwei` a gas and `eth_usd` dollars an ETH."""
    return Decimal(str(gas)) * gwei * eth_usd / Decimal(10**9)


def share_by_bytes(batch_gas: int, sizes: Sequence[int]) -> list[float]:
    """A batch's L1 gas split among its txs in proportion to their bytes (framing included): the
    shares add up to `batch_gas`, so the batch header and fixed cost are spread over the txs too."""
    total = sum(sizes)
    if total <= 0:
        raise ValueError("a batch holds at least one byte of txs")
    return [batch_gas * s / total for s in sizes]


@dataclass(frozen=True)
class Figure:
    """A gas figure, measured or extrapolated; `how` says how when extrapolated."""

    value: float
    extrapolated: bool = False
    how: str = ""

    def text(self, digits: int = 0) -> str:
        """`1,234`, or `1,234*` when extrapolated."""
        return f"{self.value:,.{digits}f}" + ("*" if self.extrapolated else "")


def linear(x0: float, y0: float, x1: float, y1: float, x: float, what: str) -> Figure:
    """y at x on the line through (x0, y0) and (x1, y1): measured when x is one of the two points,
    else extrapolated and marked, `what` naming the measured points."""
    if x == x0:
        return Figure(y0)
    if x == x1:
        return Figure(y1)
    if x1 == x0:
        raise ValueError("two distinct points are needed to extrapolate")
    slope = (y1 - y0) / (x1 - x0)
    return Figure(
        y0 + slope * (x - x0),
        extrapolated=True,
        how=f"{what}: linear through {x0:g} -> {y0:,.0f} and {x1:g} -> {y1:,.0f} ({slope:,.1f} a unit)",
    )
