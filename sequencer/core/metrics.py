"""Prometheus metrics of one sequencer (its own registry, so several can live in one process)."""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from protocol.transition import StepKind
from sequencer.core.errors import ApiError


class Metrics:
    """The sequencer's metrics; `render()` is the `/metrics` body."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series
        r = self.registry = CollectorRegistry()
        self.txs_accepted = Counter("mlrollup_txs_accepted", "Txs accepted into the mempool", registry=r)
        self.txs_rejected = Counter(
            "mlrollup_txs_rejected", "Txs refused at submission, by error code", ["reason"], registry=r
        )
        self.txs_executed = Counter(
            "mlrollup_txs_executed", "Txs executed in blocks, by outcome", ["outcome"], registry=r
        )
        self.block_height = Gauge("mlrollup_block_height", "Number of the last L2 block", registry=r)
        self.batch_height = Gauge(
            "mlrollup_batch_height", "Id of the last batch in each status (-1: none)", ["status"], registry=r
        )
        for status in ("open", "sealed", "posted", "final"):
            self.batch_height.labels(status).set(-1)
        self.mempool_size = Gauge("mlrollup_mempool_size", "Pending txs", registry=r)
        self.deposits_seen = Gauge("mlrollup_deposits_seen", "L1 deposits stored (queue length)", registry=r)
        self.l1_gas_spent = Counter("mlrollup_l1_gas_spent", "L1 gas used by posted batches", registry=r)
        self.block_seconds = Histogram(
            "mlrollup_block_execution_seconds",
            "Time apply_batch takes for one block",
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.steps = Counter("mlrollup_steps", "Steps executed in blocks, by kind", ["kind"], registry=r)
        self.step_seconds = Counter(
            "mlrollup_step_execution_seconds",
            "Execution time by step kind: each block's time shared among its steps by count "
            "(exact for blocks of one kind); divide by mlrollup_steps_total for a mean",
            ["kind"],
            registry=r,
        )
        for kind in StepKind:
            self.steps.labels(kind.name.lower())
            self.step_seconds.labels(kind.name.lower())
        self.l1_sync = Counter(
            "mlrollup_l1_sync",
            "What following L1 did: rollback (batches L1 deleted), adopt (another proposer's valid batch), "
            "refuse (a fraudulent one)",
            ["action"],
            registry=r,
        )
        for action in ("rollback", "adopt", "refuse"):
            self.l1_sync.labels(action)
        self.catching_up = Gauge(
            "mlrollup_catching_up", "1 while the sequencer refuses txs to catch up with L1", registry=r
        )

    def count_rejection(self, error: ApiError) -> None:
        """Count a refused submission once, by code (each refused tx of a list)."""
        if not error.counted:
            error.counted = True
            self.txs_rejected.labels(error.code).inc(max(1, len(error.extra.get("items", ()))))

    def observe_block(self, seconds: float, kinds: Tally[StepKind]) -> None:
        self.block_seconds.observe(seconds)
        total = sum(kinds.values())
        for kind, count in kinds.items():
            self.steps.labels(kind.name.lower()).inc(count)
            self.step_seconds.labels(kind.name.lower()).inc(seconds * count / total)

    def render(self) -> bytes:
        return generate_latest(self.registry)
