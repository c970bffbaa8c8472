"""`eth_feeHistory` as geth answers it, computed from the devnet's blocks (web3.py's provider answers
an empty history for the newest block and says the oldest block is always 1)."""

from __future__ import annotations

from typing import Any

from l1_contracts.devnet.wire import INVALID_PARAMS, parse_quantity
from l1_contracts.errors import DevnetRpcError


def fee_history(chain: Any, params: list[Any]) -> Any:
    """eth_feeHistory as geth answers it: base fees of the range and of the next block, gas used
    ratios, and with percentiles the effective tips of each block at those gas-weighted ranks."""
    if not 2 <= len(params) <= 3:
        raise DevnetRpcError(
            INVALID_PARAMS, "invalid params: expected [blockCount, newestBlock, percentiles?]"
        )
    count = parse_quantity(params[0], "blockCount")
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
            rewards.append(_block_rewards(chain, block, percentiles))
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


def _block_rewards(chain: Any, block: Any, percentiles: list[float]) -> list[int]:
    if not block.transactions:
        return [0 for _ in percentiles]
    base_fee = block.header.base_fee_per_gas
    receipts = block.get_receipts(chain.chaindb)
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
