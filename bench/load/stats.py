"""The load's measurements: the block that holds each tx (its time to receipt), the service's
memory over time, and percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from client.errors import ClientError
from client.sdk import AsyncClient
from mlrollup.processes import rss_bytes, tree


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank `p`-th percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class BlockFollower:
    """Follows the sequencer's blocks with long polls and records when each tx was executed (the
    block's `created_at`, the server's clock: the same machine's), so no tx needs a poll of its own."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.executed: dict[str, float] = {}
        self.blocks = 0
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        number = (await self.client.latest_block()).number + 1
        while not self.stopping.is_set():
            try:
                block = await self.client.block(number, wait=2.0)
            except ClientError:
                await asyncio.sleep(0.2)  # not there yet (404 after the wait), or a refusal: again
                continue
            for tx_hash in block.txs:
                self.executed[tx_hash.lower()] = block.created_at
            self.blocks += 1
            number += 1


@dataclass
class MemorySample:
    at_s: float
    sequencer_bytes: int
    executor_bytes: int  # its descendants: the executor process (and multiprocessing's helper)
    processes: int


@dataclass
class MemoryWatch:
    """The RSS of process `pid` and its descendants every `period_s` seconds."""

    pid: int
    period_s: float = 2.0
    samples: list[MemorySample] = field(default_factory=list)

    async def run(self, stopping: asyncio.Event) -> None:
        started = time.monotonic()
        while not stopping.is_set():
            procs = tree(self.pid)
            if procs:
                main = rss_bytes(procs[:1])
                self.samples.append(
                    MemorySample(time.monotonic() - started, main, rss_bytes(procs[1:]), len(procs))
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.period_s)

    def peak(self) -> MemorySample | None:
        return max(self.samples, key=lambda s: s.sequencer_bytes + s.executor_bytes, default=None)
