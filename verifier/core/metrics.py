"""Prometheus metrics of one verifier (its own registry, so several can live in one process).

Counters start from the database at start (`Metrics.load`), so a restart does not reset what a
dashboard sums: disagreements, challenges by outcome, gas and payouts are the verifier's whole history.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, disable_created_metrics, generate_latest

from verifier.db.models import Outcome

OUTCOMES = (Outcome.WON, Outcome.LOST, Outcome.ROLLED_BACK, Outcome.MISSED, Outcome.UNPROVABLE)
TX_KINDS = ("challenge", "proof", "timeout", "withdraw")


class Metrics:
    """The verifier's metrics; `render()` is the `/metrics` body."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series
        r = self.registry = CollectorRegistry()
        self.latest_checked_batch = Gauge(
            "mlrollup_verifier_latest_checked_batch", "Index of the last batch judged (-1: none)", registry=r
        )
        self.latest_checked_batch.set(-1)
        self.l1_block = Gauge("mlrollup_verifier_l1_block", "Last L1 block scanned", registry=r)
        self.finalized_batches = Gauge(
            "mlrollup_verifier_finalized_batches", "Batches final on L1 (the Rollup's count)", registry=r
        )
        self.batches_judged = Counter(
            "mlrollup_verifier_batches_judged", "Posted batches judged, by verdict", ["verdict"], registry=r
        )
        self.disagreements = Counter(
            "mlrollup_verifier_disagreements",
            "Posted batches whose roots are not the honest ones (wrong roots or undecodable data)",
            registry=r,
        )
        self.challenges = Counter(
            "mlrollup_verifier_challenges",
            "Disputes ended, by outcome (ours and those of other challengers we followed)",
            ["outcome"],
            registry=r,
        )
        for outcome in OUTCOMES:
            self.challenges.labels(outcome)
        self.l1_gas = Counter(
            "mlrollup_verifier_l1_gas_spent", "L1 gas of the txs we sent, by kind", ["tx"], registry=r
        )
        for kind in TX_KINDS:
            self.l1_gas.labels(kind)
        self.payouts_wei = Counter(
            "mlrollup_verifier_payouts_withdrawn_wei", "Wei withdrawn from the game's payouts", registry=r
        )
        self.payout_pending_wei = Gauge(
            "mlrollup_verifier_payout_pending_wei",
            "Wei credited to us by the game, not withdrawn",
            registry=r,
        )

    def load(
        self,
        verdicts: dict[str, int],
        outcomes: dict[str, int],
        gas: dict[str, int],
        withdrawn: int,
    ) -> None:
        """Start the counters from what the database recorded."""
        for verdict, n in verdicts.items():
            self.batches_judged.labels(verdict).inc(n)
            if verdict in ("wrong_roots", "undecodable"):
                self.disagreements.inc(n)
        for outcome, n in outcomes.items():
            if outcome in OUTCOMES:
                self.challenges.labels(outcome).inc(n)
        for kind, used in gas.items():
            self.l1_gas.labels(kind).inc(used)
        self.payouts_wei.inc(withdrawn)

    def render(self) -> bytes:
        return generate_latest(self.registry)
