"""The report of `mlrollup simulate pouw`: docs/results/pouw.md and its PNG plots (matplotlib, Agg).

`write_report` renders three figures from a `bench.pouw.Simulation` (the paper's Fig. 1 and Fig. 2
with the spread over the seeds, and the attack's rewards over the rounds, minted against escrowed)
and writes the markdown page around them with the machine, the versions, the command and its time.
"""

from __future__ import annotations

import os
import platform
import subprocess
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after the backend is chosen

from bench.pouw import BYZANTINE, ETH, RealRound, Simulation, Spread

FIG_HONEST = "pouw_honest.png"
FIG_BYZANTINE = "pouw_byzantine.png"
FIG_ESCROW = "pouw_escrow.png"
RED, GREY = "#c0392b", "#5d6d7e"


def _labels(nodes: int, byzantine: bool) -> list[str]:
    return [f"node {i}" + ("\n(Byzantine)" if byzantine and i == BYZANTINE else "") for i in range(nodes)]


def _share_bars(path: Path, spread: Spread, sim: Simulation, title: str, byzantine: bool) -> None:
    """Bars of each node's share of the rewards (mean over the seeds, whiskers from min to max)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    x = np.arange(sim.nodes)
    colors = [RED if byzantine and i == BYZANTINE else GREY for i in range(sim.nodes)]
    err = np.vstack([spread.mean - spread.min, spread.max - spread.mean]) * 100
    ax.bar(x, spread.mean * 100, color=colors, yerr=err, capsize=4)
    expected = [sim.expected_honest_share()] * sim.nodes
    if byzantine:
        rest = (1 - sim.byzantine_rounds_share()) / sim.nodes
        expected = [sim.expected_byzantine_share() if i == BYZANTINE else rest for i in range(sim.nodes)]
    ax.hlines(
        np.array(expected) * 100, x - 0.4, x + 0.4, colors="black", linestyles="--", lw=1.0, label="expected"
    )
    for i, m in enumerate(spread.mean):
        ax.annotate(f"{100 * m:.1f}%", (i, 1.0), ha="center", va="bottom", fontsize=9, color="white")
    ax.set_xticks(x, _labels(sim.nodes, byzantine))
    ax.set_ylabel(f"share of rewards after round {sim.rounds} (%)")
    ax.set_ylim(0, max(100 * spread.max.max() * 1.15, 25))
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    ax.text(
        0.01,
        0.98,
        f"mean of {len(sim.seeds)} seeds, whiskers min-max",
        transform=ax.transAxes,
        va="top",
        fontsize=8,
        color=GREY,
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _escrow_plot(path: Path, sim: Simulation) -> None:
    """The attack's rewards over the rounds for the first seed: minted (left) against escrowed
    (right: rewards won minus rewards funded), with the attacker's won and funded lines."""
    run = sim.byzantine[0]
    rounds = np.arange(1, run.rounds + 1)
    won, net, funded = run.cumulative_won(), run.cumulative_net(), run.cumulative_funded()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.0, 4.2), dpi=120, sharey=True)
    for i in range(sim.nodes):
        style = (
            {"color": RED, "lw": 2.2, "zorder": 3}
            if i == BYZANTINE
            else {"color": GREY, "lw": 1.0, "alpha": 0.8, "zorder": 2}
        )
        name = "the Byzantine node" if i == BYZANTINE else ("the honest miners" if i == 1 else None)
        left.plot(rounds, won[:, i], label=name, **style)
        right.plot(rounds, net[:, i], label=None if name is None else name + ": net", **style)
    right.plot(rounds, won[:, BYZANTINE], color=RED, ls="--", lw=1.0, label="the Byzantine node: won")
    right.plot(rounds, funded[:, BYZANTINE], color=RED, ls=":", lw=1.2, label="the Byzantine node: funded")
    right.plot(
        rounds,
        run.cumulative_attack_net(),
        color=RED,
        ls="-.",
        lw=1.0,
        label="the Byzantine node: net on his own problems",
    )
    paid = np.cumsum(np.logical_not(run.byzantine_rounds))
    right.plot(rounds, -paid, color="#2471a3", lw=1.2, label="honest submitters: paid (for the models)")
    left.set_title("newly-minted reward (the paper's protocol)", fontsize=10)
    right.set_title("escrowed reward (this rollup): won - funded", fontsize=10)
    left.set_ylabel("rewards")
    for ax in (left, right):
        ax.set_xlabel("round")
        ax.axhline(0, color="black", lw=0.5)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(
        f"{sim.nodes} nodes, the Byzantine node submits {100 * sim.byzantine_rounds_share():.0f}% of the "
        f"problems pre-solved (seed {run.seed}), one reward a round",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _machine() -> tuple[str, int | None]:
    try:
        uname = subprocess.run(["uname", "-a"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        uname = " ".join(platform.uname())
    return uname, os.cpu_count()


def _versions() -> str:
    import torch

    return (
        f"Python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, "
        f"matplotlib {matplotlib.__version__}"
    )


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def _share_table(spread: Spread, first: np.ndarray, seed: int, byzantine: bool) -> list[str]:
    rows = [
        f"| node | run of seed {seed} | mean | min | max | std |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for i in range(len(spread.mean)):
        name = f"node {i}" + (" (Byzantine)" if byzantine and i == BYZANTINE else "")
        rows.append(
            f"| {name} | {_pct(first[i])} | {_pct(spread.mean[i])} | {_pct(spread.min[i])} | "
            f"{_pct(spread.max[i])} | {_pct(spread.std[i])} |"
        )
    return rows


def _eth(wei: int) -> str:
    return f"{wei / ETH:+g}" if wei else "0"


def _para(text: str) -> list[str]:
    """A prose paragraph, wrapped at 100 columns, then a blank line."""
    return [*textwrap.wrap(text, 100, break_long_words=False, break_on_hyphens=False), ""]


def _bullet(text: str) -> list[str]:
    """A list item, wrapped at 100 columns with its continuation indented."""
    return textwrap.wrap(
        text, 100, initial_indent="- ", subsequent_indent="  ", break_long_words=False, break_on_hyphens=False
    )


def _since_process_start() -> float | None:
    """Seconds since this process started (Linux /proc), imports included; None elsewhere."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _round_section(real: RealRound) -> list[str]:
    """The section of one real round: how it ran, the balances, what they show."""
    before, after = real.attacker()
    in_process = "apply_batch" in real.where
    if in_process:
        title = "One round of it for real, through the rollup's state transition"
        how = (
            "In-process, through `protocol.transition.apply_batch` (the state transition the sequencer "
            "runs), on a fresh state that funds every account, with EIP-712-signed txs. The attacker's "
            f"submitter account creates a LINREG task ({real.spec.inputs} inputs) with "
            f"{real.reward / ETH:g} ETH escrowed, committing to a test set of {real.n_test} samples "
            "whose labels are his secret model's exact predictions; the task's trainDataRef is the hash "
            f"of a noisy training set of {real.n_train} samples drawn from the same model. Each honest "
            "miner trains on a bootstrap resample of it with the project's miner trainer "
            "(`client.miner.train`); the attacker's second account holds the secret model. Every miner "
            "commits (the attacker last, so that a tie would not go to him), the submitter reveals the "
            "test set (`protocol.testset.reveal_txs`), every miner reveals and is scored, and an honest "
            "miner finalizes."
        )
    else:
        title = "The same round against a running stack"
        how = (
            f"The same round (the same data, models and order of txs) {real.where}, with real "
            "deadlines: the attacker's submitter is a fresh account funded with the reward by a deposit "
            "on L1, the other accounts are fresh and empty (txs carry no fee). The balances are the "
            "sequencer's, after the deposit and after FinalizeTask. The CreateTask with no reward is "
            "refused before it runs, so the round executes one tx fewer. Most of its time is spent "
            "waiting for its deadlines, set from the stack's block interval and batch age as "
            "`mlrollup demo` sets them."
        )
    lines = [
        f"## {title}",
        "",
        *_para(f"{how} {real.txs} txs, {real.steps} steps, {real.seconds:.2f} s."),
        "| account | before (ETH) | after (ETH) | change (ETH) | score (−MSE·S) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for a in real.accounts:
        score = "" if a.score is None else str(a.score)
        lines.append(f"| {a.name} | {a.before / ETH:g} | {a.after / ETH:g} | {_eth(a.change)} | {score} |")
    refused = "by the state transition" if in_process else "at admission, by the sequencer's dry run"
    lines += [
        "",
        *_para(
            f"The winner is the **{real.winner}**. The attacker's two accounts hold {before / ETH:g} ETH "
            f"before and {after / ETH:g} ETH after: his net gain is **{_eth(real.attacker_net())} ETH**, "
            f"the L2 fees his txs paid ({real.attacker_fees() / ETH:g} ETH): the reward was his own. The "
            "honest miners lose nothing but their work and their fees. And the paper's "
            f"free problem does not exist here: a CreateTask with no reward is refused {refused} "
            f"(`{real.zero_reward}`), and no reward is ever minted."
        ),
    ]
    return lines


def report_markdown(sim: Simulation, rounds: Sequence[RealRound], command: str, seconds: float) -> str:
    """The page: what was run where, the figures and the plots. `seconds` is the command's time from
    its start (after the imports) to the page."""
    uname, cpus = _machine()
    b = sim.byzantine_rounds_share()
    h, z = sim.honest_shares(), sim.byzantine_shares()
    won, funded, net = sim.escrow_won(), sim.escrow_funded(), sim.escrow_net()
    attack = sim.attack_nets()
    paid = sim.submitters_paid()
    honest_net = net.mean[[i for i in range(sim.nodes) if i != BYZANTINE]]
    first_seed = sim.seeds[0]
    whole = _since_process_start()
    took = f"{seconds:.1f} s for the simulation, the real round{'s' if len(rounds) > 1 else ''} and the plots"
    if whole is not None:
        took += f"; {whole:.1f} s since the process started, Python's start and the imports (torch) included"
    lines = [
        "# Proof of Useful Work: the paper's attack, and the same attack on this rollup's rules",
        "",
        *_para(
            "The experiment of *Solutions for decentralized AI*, section IV.D (Figs. 1 and 2), and the "
            "remedy of its conclusion (submitters provide the rewards) as this rollup implements it "
            "(docs/spec.md section 6: CreateTask escrows the reward, FinalizeTask pays the best miner or "
            "refunds the submitter). Written by `mlrollup simulate pouw` (`bench/pouw.py`, "
            "`bench/pouw_report.py`)."
        ),
        *_bullet(f"command: `{command}`"),
        *_bullet(f"took {took}"),
        *_bullet(f"machine: `{uname}`, {cpus} CPUs (shared, so the time is noisy)"),
        *_bullet(_versions()),
        *_bullet(
            f"{sim.nodes} nodes of equal power, {sim.rounds} rounds, seeds {first_seed}..{sim.seeds[-1]} "
            f"({len(sim.seeds)} runs per experiment); the Byzantine node (node {BYZANTINE}) submits "
            f"{_pct(b)} of the problems"
        ),
        "",
        "## The model",
        "",
        *_para(
            "Each round takes the next problem of the pool (FIFO; the Byzantine node's problems are "
            "shuffled in among the honest submitters'), every node trains on it, and the best model on the "
            "hidden test set wins the round's reward. Equal power: each node's performance on a problem is "
            "an independent draw of one distribution (Beta(8, 2), an accuracy; any continuous distribution "
            "gives the same law of the winner). On his own problems the Byzantine node knows the test set, "
            "so his model is perfect on it and wins. Each run is seeded (numpy's default generator), so "
            "every figure below is reproducible."
        ),
        "## All honest, newly-minted reward (the paper's Fig. 1)",
        "",
        *_para(f"Expected: {_pct(sim.expected_honest_share())} each."),
        *_share_table(h, sim.honest[0].shares(), first_seed, byzantine=False),
        "",
        f"![Fig. 1: share of rewards, all honest]({FIG_HONEST})",
        "",
        "## One Byzantine node, newly-minted reward (the paper's Fig. 2)",
        "",
        *_para(
            f"Expected: {_pct(b)} + (1 − {b:g})/{sim.nodes} = {_pct(sim.expected_byzantine_share())} for the "
            f"Byzantine node (all his own problems and a 1/{sim.nodes} part of the rest), "
            f"{_pct((1 - b) / sim.nodes)} for each honest node."
        ),
        *_share_table(z, sim.byzantine[0].shares(), first_seed, byzantine=True),
        "",
        f"![Fig. 2: share of rewards, one Byzantine node]({FIG_BYZANTINE})",
        "",
        "## The same attack with escrowed rewards (this rollup's rules)",
        "",
        *_para(
            "No reward is minted: the submitter of each problem escrows its reward, which goes to the best "
            "miner. The same runs (the same winners), accounted that way, in rewards (one a round), mean "
            "over the seeds:"
        ),
        "| node | won | funded | net gain | net min | net max | net std |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i in range(sim.nodes):
        name = f"node {i}" + (" (Byzantine)" if i == BYZANTINE else "")
        lines.append(
            f"| {name} | {won.mean[i]:.1f} | {funded.mean[i]:.1f} | {net.mean[i]:+.1f} | {net.min[i]:+.0f} | "
            f"{net.max[i]:+.0f} | {net.std[i]:.1f} |"
        )
    exact = "exactly 0 in every run" if min(attack) == max(attack) == 0 else f"{min(attack)} to {max(attack)}"
    lines += [
        "",
        *_bullet(
            f"The attack itself nets {exact}: on his own problems the attacker wins back the rewards he "
            "funded, no more (and had he lost one, he would have paid its reward to another)."
        ),
        *_bullet(
            f"His net gain ({net.mean[BYZANTINE]:+.1f}) is what an honest miner earns "
            f"({honest_net.mean():+.1f} on average): a 1/{sim.nodes} part of the honest submitters' rewards, "
            "won by competing on their problems like everyone. He still *wins* "
            f"{_pct(won.mean[BYZANTINE] / sim.rounds)} of the rewards paid out, but {_pct(b)} were his own "
            "money."
        ),
        *_bullet(
            f"The honest submitters paid {np.mean(paid):.1f} rewards and got as many trained models, the "
            "best of each round: what they submitted the problems for."
        ),
        *_bullet(
            "What the attack still costs the others is work, not rewards: the honest miners train on his "
            "problems and cannot win them. (Txs carry no fee in this version of the rollup, "
            "docs/architecture.md, so it costs him nothing either; but it no longer pays.)"
        ),
        "",
        f"![the attack over the rounds, minted against escrowed rewards]({FIG_ESCROW})",
        "",
    ]
    for real in rounds:
        lines += _round_section(real)
    if len(rounds) > 1:
        scores = [[a.score for a in r.accounts] for r in rounds]
        same = all(s == scores[0] for s in scores)
        lines += _para(
            "The rollup scored every model the same in each of these rounds, bit for bit."
            if same
            else "The scores differ between the rounds: a bug, the same models on the same test set."
        )
    lines += [
        "## Reproduce",
        "",
        "```sh",
        ".venv/bin/mlrollup simulate pouw            # this page and its plots, in docs/results/",
        ".venv/bin/mlrollup simulate pouw --help     # its flags: --rounds, --nodes, --seeds, …",
        ".venv/bin/mlrollup simulate pouw --url http://127.0.0.1:8000   # also the round on make up's stack",
        ".venv/bin/python -m bench.pouw --quick      # what CI runs: 200 rounds, 3 seeds, figures printed",
        "```",
        "",
    ]
    return "\n".join(lines)


def write_report(
    out: Path, sim: Simulation, rounds: Sequence[RealRound], command: str, started: float
) -> list[Path]:
    """Render the three plots and write pouw.md into `out` (created if missing); returns the paths.
    `started` is the `time.perf_counter()` of the command's start, for the time the page reports."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / FIG_HONEST, out / FIG_BYZANTINE, out / FIG_ESCROW, out / "pouw.md"]
    _share_bars(paths[0], sim.honest_shares(), sim, "all nodes honest, newly-minted reward", byzantine=False)
    _share_bars(
        paths[1],
        sim.byzantine_shares(),
        sim,
        f"one Byzantine node submitting {_pct(sim.byzantine_rounds_share())} of the problems pre-solved",
        byzantine=True,
    )
    _escrow_plot(paths[2], sim)
    paths[3].write_text(report_markdown(sim, rounds, command, time.perf_counter() - started))
    return paths
