"""`mlrollup simulate pouw` (bench/pouw.py): the paper's figures on a seeded run, the escrowed-reward
accounting, the real round through apply_batch, and the report it writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bench.pouw import BYZANTINE, ETH, RealRound, real_round, run_simulation, simulate
from bench.pouw_report import write_report
from mlrollup.cli import app
from protocol.receipts import Reason


@pytest.fixture(scope="module")
def real() -> RealRound:
    return real_round(honest_miners=4, seed=0)


def test_a_run_is_reproducible_and_the_pool_holds_the_byzantine_share() -> None:
    a, b = simulate(1000, 5, 0.5, seed=7), simulate(1000, 5, 0.5, seed=7)
    assert np.array_equal(a.winners, b.winners) and np.array_equal(a.byzantine_rounds, b.byzantine_rounds)
    assert int(a.byzantine_rounds.sum()) == 500
    assert not np.array_equal(a.winners, simulate(1000, 5, 0.5, seed=8).winners)
    assert not simulate(1000, 5, 0.0, seed=7).has_byzantine


def test_minted_rewards_reproduce_the_papers_figures() -> None:
    sim = run_simulation(rounds=1000, nodes=5, byzantine_share=0.5, seed=0, seeds=10)
    honest = sim.honest_shares()
    assert np.allclose(honest.mean, 0.2, atol=0.015)  # Fig. 1: about 20% each
    assert honest.min.min() > 0.15 and honest.max.max() < 0.25
    byz = sim.byzantine_shares()
    assert sim.expected_byzantine_share() == pytest.approx(0.6)
    assert byz.mean[BYZANTINE] == pytest.approx(0.6, abs=0.01)  # Fig. 2: 50% + a fifth of the rest
    assert byz.min[BYZANTINE] > 0.56
    others = np.delete(byz.mean, BYZANTINE)
    assert np.allclose(others, 0.1, atol=0.015)
    assert all(r.won()[BYZANTINE] >= int(r.byzantine_rounds.sum()) for r in sim.byzantine)


def test_escrowed_rewards_make_the_attack_net_zero_while_honest_miners_gain() -> None:
    sim = run_simulation(rounds=1000, nodes=5, byzantine_share=0.5, seed=0, seeds=10)
    assert sim.attack_nets() == [0] * 10  # on his own problems he wins back exactly what he funded
    for run in sim.byzantine:
        net = run.net()
        assert int(run.won().sum()) == run.rounds
        assert int(net.sum()) == run.submitters_paid()  # the honest submitters' rewards, shared out
        assert run.funded()[BYZANTINE] == run.rounds - run.submitters_paid()
        assert int(run.cumulative_attack_net()[-1]) == 0 and not run.cumulative_attack_net().any()
    spread = sim.escrow_net()
    honest = np.delete(spread.mean, BYZANTINE)
    assert (honest > 50).all()  # about 100 rewards each: a fifth of the honest submitters' 500
    assert spread.mean[BYZANTINE] == pytest.approx(honest.mean(), abs=20)  # what an honest miner earns
    assert sim.escrow_won().mean[BYZANTINE] > 550  # he still wins ~60% of the payouts, his own money


def test_the_real_round_pays_the_attacker_his_own_reward(real: RealRound) -> None:
    assert real.winner == "attacker (miner)"
    assert real.zero_reward == Reason.INVALID_PARAMS.name
    before, after = real.attacker()
    assert before - after == -real.attacker_net() == real.attacker_fees() > 0  # he gains nothing, pays fees
    rows = {a.name: a for a in real.accounts}
    assert rows["attacker (submitter)"].net == -real.reward
    assert rows["attacker (miner)"].net == real.reward == 10 * ETH
    assert rows["attacker (miner)"].score == 0  # he made the labels: MSE 0
    honest = [a for a in real.accounts if a.name.startswith("honest")]
    assert len(honest) == 4 and all(a.net == 0 and a.fees > 0 for a in honest)
    assert all(a.score is not None and a.score < 0 for a in honest)  # they trained, and scored
    fees = sum(a.fees for a in real.accounts)  # paid to the fee recipient, who is none of them
    assert sum(a.after for a in real.accounts) + fees == sum(a.before for a in real.accounts)  # escrow paid


def test_the_report_and_its_plots(tmp_path: Path, real: RealRound) -> None:
    sim = run_simulation(rounds=100, nodes=3, byzantine_share=0.5, seed=1, seeds=2)
    paths = write_report(tmp_path, sim, [real], "mlrollup simulate pouw --rounds 100", 0.0)
    assert [p.name for p in paths] == ["pouw_honest.png", "pouw_byzantine.png", "pouw_escrow.png", "pouw.md"]
    for png in paths[:3]:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = paths[3].read_text()
    for needle in (
        "`mlrollup simulate pouw --rounds 100`",
        "CPUs",
        "torch ",
        "(pouw_escrow.png)",
        "the L2 fees his txs paid",
    ):
        assert needle in page, needle


def test_the_command(tmp_path: Path) -> None:
    out = tmp_path / "results"
    argv = ["simulate", "pouw", "--rounds", "50", "--seeds", "2", "--no-real-round", "--out", str(out)]
    done = CliRunner().invoke(app, argv)
    assert done.exit_code == 0, done.output
    assert "node 0 (Byzantine)" in done.output
    assert (out / "pouw.md").exists() and (out / "pouw_escrow.png").exists()
    bad = CliRunner().invoke(app, ["simulate", "pouw", "--nodes", "1", "--out", str(out)])
    assert bad.exit_code == 2
