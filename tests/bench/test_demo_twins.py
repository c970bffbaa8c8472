"""The twins' gas of `mlrollup demo`'s work: the extrapolation from part of the work lands on what the
whole work measures, and the whole work scores as the rollup does (a small task, a short training)."""

from __future__ import annotations

from bench.demo_twins import measure, planned_txs
from client import digits, miner
from protocol.paper import PAPER_INITIAL, PAPER_LEARNING_RATE, PAPER_X, PAPER_Y

EPOCHS = 6  # the regression's train() calls, instead of the paper's 2,000


def test_the_extrapolation_matches_the_full_measurement() -> None:
    data = digits.load(12)
    honest = [p for p in digits.MINERS if p.strategy != digits.Strategy.COPYCAT][:2]
    weights = [digits.make_weights(p, data, epoch_scale=0.05) for p in honest]
    paper = (PAPER_X, PAPER_Y, PAPER_INITIAL, PAPER_LEARNING_RATE, EPOCHS)
    sent: list[int] = []
    part = measure(digits.SPEC, data.features, data.labels, weights, 1, paper, epochs=2, sizes=(3, 6))
    whole = measure(
        digits.SPEC, data.features, data.labels, weights, 1, paper, full=True, on_tx=lambda: sent.append(1)
    )
    assert len(sent) == planned_txs(2, 1, full=True, epochs=2, sizes=(3, 6), paper_epochs=EPOCHS)

    assert part.extrapolated and part.regression.extrapolated and part.competition.extrapolated
    assert not whole.extrapolated and whole.competition.sizes_measured == (12,)
    assert part.competition.sizes_measured == (3, 6)
    # every epoch over the same points costs the same: the regression extrapolates exactly
    assert part.regression.total == whole.regression.total
    assert part.regression.train == EPOCHS * part.regression.train_per_epoch
    # the fixed costs are measured, the per-sample ones land within a few percent
    for name in ("create_task", "commits", "finalize"):
        assert getattr(part.competition, name) == getattr(whole.competition, name), name
    for name in ("reveal_test_set", "reveal_models"):
        got, exact = getattr(part.competition, name), getattr(whole.competition, name)
        assert abs(got - exact) <= 0.05 * exact, (name, got, exact)
    assert whole.competition.commit_count == 3 and whole.competition.reveal_count == 2
    # the whole work scores each miner as the rollup does
    assert whole.competition.scores == tuple(
        miner.local_score(digits.SPEC, w, data.features, data.labels) for w in weights
    )
    assert part.competition.scores is None
    assert whole.total == whole.regression.total + whole.competition.total
