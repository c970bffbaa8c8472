"""The report of `mlrollup bench gas`: `docs/results/gas.md` and its plots, and the JSON summary."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.gas.competitions import Competitions, over_block_limit
from bench.gas.disputes import Disputes
from bench.gas.floors import PAPER_ETH_USD, PAPER_GWEI, usd
from bench.gas.table1 import ROWS, Table1
from bench.gas.where_bytes import FIELDS, FULL_BATCH, WhereBytes

TABLE1_TARGET = 10_000
FLOOR_TARGET = 0.02


@dataclass(frozen=True)
class Run:
    command: str
    quick: bool
    gwei: Decimal
    eth_usd: Decimal
    seconds: float
    date: str


def machine() -> str:
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("torch", "py-evm", "eth-tester", "web3")
    )
    return (
        f"{platform.node()}: {platform.machine()}, {_cores()} cores, {platform.system()} "
        f"{platform.release()}; "
        f"Python {platform.python_version()}, {versions}"
    )


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def _usd(gas: float, run: Run) -> str:
    paper = usd(gas)
    mine = usd(gas, run.gwei, run.eth_usd)
    text = f"${paper:,.2f}"
    if (run.gwei, run.eth_usd) != (PAPER_GWEI, PAPER_ETH_USD):
        text += f" / ${mine:,.4f}"
    return text


def table1_md(t: Table1, run: Run) -> list[str]:
    star = "" if t.full_measured else "*"
    prices = f"{PAPER_GWEI} gwei, 1 ETH = {PAPER_ETH_USD:,} USD"
    if (run.gwei, run.eth_usd) != (PAPER_GWEI, PAPER_ETH_USD):
        prices += f" / {run.gwei} gwei, 1 ETH = {run.eth_usd:,} USD"
    lines = [
        "| row | the paper's gas | gas on L1 here (OnChainRegression) | rollup, alone | ratio | rollup, "
        "shared | ratio "
        "| USD, L1 here | USD, rollup alone | USD, rollup shared |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines[0] = lines[0].replace("| USD, L1 here", f"| USD ({prices}), L1 here")
    for name in ROWS:
        twin = t.twin(name)
        mark = star if name == "full run" else ""
        alone, shared = t.alone.row(name), t.shared.row(name)
        lines.append(
            f"| {name} | {t.paper(name):,} | {twin:,.0f}{mark} | {alone:,.0f} | "
            f"{t.paper(name) / alone:,.0f}× "
            f"| {shared:,.0f} | {t.paper(name) / shared:,.0f}× | {_usd(twin, run)} | {_usd(alone, run)} "
            f"| {_usd(shared, run)} |"
        )
    return lines


def render(t: Table1, c: Competitions, b: WhereBytes, d: Disputes, run: Run, plots: dict[str, str]) -> str:
    out: list[str] = ["# L1 gas: the paper's pure-L1 workloads against the rollup", ""]
    out += [
        f"Written by `{run.command}` on {run.date}, in {run.seconds:.0f} s"
        + (" (`--quick` sizes: not the committed figures)" if run.quick else "")
        + f". Machine: {machine()}. Gas is py-evm's (Prague) on eth-tester or the `mlrollup devnet`; "
        "prices are the paper's (20 gwei, 1 ETH = 1,742 USD, June 2023)"
        + (
            ""
            if (run.gwei, run.eth_usd) == (PAPER_GWEI, PAPER_ETH_USD)
            else f" and `--gwei {run.gwei} --eth-usd {run.eth_usd}`"
        )
        + ". Every row ran both paths in this run and checked their bits.",
        "",
        "## The paper's Table I",
        "",
        "The paper's workload: nine points, `addData` nine times, 2,000 epochs of `train()`. Purely on L1: "
        "`OnChainRegression` on an in-process py-evm chain"
        + (
            ", all 2,000 `train()` calls measured."
            if t.full_measured
            else f", {t.twin_epochs_measured} `train()` calls measured and the rest extrapolated (*: "
            f"every epoch "
            "over the same points costs the same gas, checked)."
        )
        + " Through the rollup: CreateModel, nine AddData of one point, Train(1), Train(1,999), both "
        "paths checked to end with the paper's weights (100262000, 3420000) after one epoch and "
        f"{t.shared.weights_full} after 2,000. The rollup's L1 gas is `appendBatch` plus each batch's share "
        "of its `finalize` tx, counted two ways:",
        "",
        (
            f"- **alone**: the txs sent through the SDK to a temporary `mlrollup up` stack (devnet, "
            f"sequencer "
            f"with its batcher, verifier), which put them in {t.alone.batches} batches of its own "
            f"({', '.join(map(str, t.alone.batch_txs))} txs); the gas from the receipts of the Rollup's "
            "`appendBatch` and `finalize` txs, each row its txs' share by bytes of their batches."
            if t.alone_on_stack
            else f"- **alone**: (`--quick`) the same txs alone in {t.alone.batches} batches on the "
            f"in-process L1."
        ),
        f"- **shared**: the same txs in {t.shared.batches} full batches of "
        f"{', '.join(map(str, t.shared.batch_txs))} txs with Transfers, executed by `apply_batch` and posted "
        "to the real Rollup on an in-process chain; each row pays its share by bytes.",
        "",
        "addData is the mean of the nine; train is one epoch (the Train(1) tx); the full run is every tx "
        "(the rollup's includes CreateModel, the twin's leaves out its deployment, as the paper's does).",
        "",
        *table1_md(t, run),
        "",
        f"Time: the twin {t.seconds.get('twin', 0):.0f} s, the rollup alone "
        f"{t.seconds.get('alone', 0):.0f} s, "
        f"shared {t.seconds.get('shared', 0):.0f} s.",
        "",
    ]
    out += competitions_md(c, plots)
    out += bytes_md(b, plots)
    out += disputes_md(d, run.quick)
    out += targets_md(t, c, b)
    return "\n".join(out) + "\n"


def competitions_md(c: Competitions, plots: dict[str, str]) -> list[str]:
    lines = [
        "## Competitions at scale",
        "",
        f"A digits task (`load_digits`, {c.n_test} hidden test samples) with "
        f"{', '.join(f'{n:,}' for n in c.sizes)} "
        "miners, each with its own weights (one trained model plus the miner's seeded noise). The rollup "
        "runs every size for real on an in-process chain: CreateTask, every CommitModel, the RevealTestSet "
        "txs, every RevealModel scored on the whole test set by `apply_batch`, FinalizeTask, in batches "
        "posted and finalized on the real Rollup (L1 gas: those receipts). Every rollup score equals "
        "`client.miner.local_score`'s and the paid miner is the best. "
        f"`OnChainCompetition` is measured on the first {', '.join(map(str, c.twin_sizes))} test samples "
        "with 1 and 3 miners (its scores and winner at the largest of these equal the rollup's on the same "
        f"samples and miners); * marks figures extrapolated linearly per test sample to {c.n_test} and per "
        "miner to each size.",
        "",
        "| model | miners | rollup L1 gas a miner | pure L1 gas a miner | ratio | rollup batches |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in c.models:
        for r in m.rollup:
            twin = m.twin_per_miner[r.miners]
            lines.append(
                f"| {m.name} | {r.miners:,} | {r.per_miner:,.0f} | {twin.text()} | "
                f"{twin.value / r.per_miner:,.0f}× "
                f"| {len(r.batches)} |"
            )
    lines += ["", "Why the pure-L1 side is extrapolated:", ""]
    for m in c.models:
        over = over_block_limit(m)
        reason = (
            f"at {c.n_test} samples {', '.join(over)}: over the 30M block gas limit"
            if over
            else "py-evm time at the larger sizes"
        )
        lines.append(f"- {m.name}: {reason}. {m.twin_per_miner[c.sizes[-1]].how}.")
    if "miners" in plots:
        lines += ["", f"![L1 gas a miner against the miners]({plots['miners']})"]
    return [*lines, ""]


def bytes_md(b: WhereBytes, plots: dict[str, str]) -> list[str]:
    lines = [
        "## Where the bytes go",
        "",
        f"Every L2 tx of this run's in-process batches ({b.batches} batches, {b.txs:,} txs): its bytes "
        f"in the "
        "batch data by field (header: type, nonce and the u24 length; tensors: rank, dims, width and "
        "elements; other: the remaining fields), and the L1 gas it pays, its share by bytes of its batch's "
        "`appendBatch` receipt, against the calldata floor (16 gas a non-zero byte, 4 a zero byte) and "
        "EIP-7623's floor (10 gas a token: 4 a non-zero byte, 1 a zero byte) of its bytes.",
        "",
        "| tx type | txs | bytes a tx | signature | header | tensors | other | L1 gas a tx | calldata "
        "floor | EIP-7623 floor | gas / EIP-7623 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in b.types:
        f = t.bytes_by_field
        lines.append(
            f"| {t.name} | {t.count:,} | {t.bytes / t.count:,.0f} | "
            + " | ".join(f"{100 * f[k] / t.bytes:.0f}%" for k in FIELDS)
            + f" | {t.per_tx(t.gas):,.0f} | {t.per_tx(t.calldata):,.0f} | {t.per_tx(t.floor):,.0f} "
            f"| {t.gas / t.floor:.3f} |"
        )
    share = b.share_of_fields()
    lines += [
        "",
        "All the bytes: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in share.items()) + ".",
        "",
        f"Batches of {FULL_BATCH:,} txs or more, the `appendBatch` receipt against the sum of its txs' "
        "EIP-7623 floors (the receipt also pays 21,000 gas, the ABI words and the batch header):",
        "",
        "| txs in the batch | txs | appendBatch gas | Σ EIP-7623 floors | gas a tx | over the floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for names, n, gas, floor in b.full_batch_rows:
        lines.append(
            f"| {names} | {n:,} | {gas:,} | {floor:,} | {gas / n:,.0f} | {100 * (gas / floor - 1):.2f}% |"
        )
    lines += [
        "",
        f"The fixed cost of a batch: {b.fixed_cost:,.0f} gas (the median over {b.fixed_cost_batches} one-tx "
        "batches of `appendBatch` less 21,000 and the batch data's calldata cost: six storage slots, two "
        f"Bridge reads, the event, the ABI words), and {b.finalize_per_batch:,.0f} gas of `finalize` a batch "
        "(one finalize tx after each posting). Under EIP-7623 a large batch pays its floor and hides this "
        "execution under it.",
    ]
    for key, alt in (("floors", "gas a tx against both floors"), ("fields", "the share of each field")):
        if key in plots:
            lines += ["", f"![{alt}]({plots[key]})"]
    return [*lines, ""]


def disputes_md(d: Disputes, quick: bool) -> list[str]:
    """The Disputes section: a whole fraud proof's gas by step kind, next to the batch's posting."""
    lines = [
        "## Disputes",
        "",
        "The whole fraud proof, by the kind of step proven wrong (`bench/gas/disputes.py`): the "
        "scenario of `bench/fraud_scenario.py` (the one `tests/l1/test_fraud_game_steps.py` plays: "
        "Bridge deposits, every tx type, two failed txs, a training job, the test set's and a model's "
        "reveals with three scoring chunks, the finalization) on an in-process chain with the real "
        "one-step prover. Each batch is posted with one step's post-state root wrong, challenged "
        "(`challenge`, the challenger), its step hashes revealed (`revealSteps`, the proposer), and "
        "proven wrong (`proveFraud` with `find_fraud`'s proof, the prover re-executing the step): every "
        "proof named the tampered step and rolled the batch back. The last column is the `appendBatch` "
        "receipt of the same batch posted honestly, one batch's posting cost."
        + (f" `--quick`: {len(d.rows)} kinds of the first batch only." if quick else ""),
        "",
        "| batch | step kind | step / steps | witness bytes | challenge | revealSteps | proveFraud | "
        "dispute | the batch's appendBatch | dispute / posting |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in d.rows:
        lines.append(
            f"| {r.batch} | {r.kind} | {r.step} / {r.steps} | {r.witness_bytes:,} | {r.challenge:,} "
            f"| {r.reveal:,} | {r.proof:,} | {r.total:,} | {r.posting:,} | {r.total / r.posting:.1f}× |"
        )
    if d.rows:
        low = min(d.rows, key=lambda r: r.total)
        high = max(d.rows, key=lambda r: r.total)
        lines += [
            "",
            f"A dispute costs {low.total:,} ({low.kind}) to {high.total:,} gas ({high.kind}), "
            f"{low.total / low.posting:.1f}× to {high.total / high.posting:.1f}× its batch's posting. That "
            "gas is paid once a fraud, by the challenger (`challenge`, `proveFraud`, repaid with a share "
            "of the slashed bond) and the proposer (`revealSteps`), and only for a batch that is "
            "challenged: an honest batch nobody disputes pays its `appendBatch` alone, so the rollup's "
            "gas a batch is the posting cost, not the dispute's. "
            f"Time: {d.seconds:.0f} s.",
        ]
    return [*lines, ""]


def targets_md(t: Table1, c: Competitions, b: WhereBytes) -> list[str]:
    paper = t.paper("full run")
    lines = ["## Targets", ""]
    for name, way in (("alone", t.alone), ("shared", t.shared)):
        ratio = paper / way.full_run
        verdict = "met" if ratio >= TABLE1_TARGET else "missed"
        lines.append(
            f"- At least {TABLE1_TARGET:,}× less L1 gas than the paper's pure-L1 full run ({paper:,}), "
            f"{name}: "
            f"{ratio:,.0f}× ({way.full_run:,.0f} gas), {verdict}."
        )
    if t.shared.full_run and paper / t.shared.full_run < TABLE1_TARGET:
        lines.append(
            "  Why: the workload's 12 L2 txs are over a kilobyte of calldata, and Prague's EIP-7623 floor "
            "charges 10 gas a token, about 40 gas a non-zero byte, so even in shared full batches they "
            f"cost about {t.shared.full_run:,.0f} gas; 10,000× would need {paper / TABLE1_TARGET:,.0f}. "
            "Alone, the batches' fixed cost (storage, the Bridge, the event, finalize) dominates."
        )
    for m in c.models:
        ratios = ", ".join(
            f"{r.miners:,}: {m.twin_per_miner[r.miners].value / r.per_miner:,.0f}×" for r in m.rollup
        )
        lines.append(f"- {m.name}, the pure-L1 / rollup ratio a miner by miners: {ratios}.")
    for names, n, gas, floor in b.full_batch_rows:
        over = gas / floor - 1
        verdict = "met" if over <= FLOOR_TARGET else "missed"
        lines.append(
            f"- L1 gas a tx within 2% of the EIP-7623 floor in a {n:,}-tx batch of {names}: "
            f"{100 * over:.2f}% over, {verdict}."
        )
    return [*lines, ""]


def plot(c: Competitions, b: WhereBytes, out_dir: Path, stem: str) -> dict[str, str]:
    """The three PNGs beside the report; their file names by key."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names: dict[str, str] = {}
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m, color in zip(c.models, ("tab:blue", "tab:orange", "tab:green"), strict=False):
        xs = [r.miners for r in m.rollup]
        ax.plot(xs, [r.per_miner for r in m.rollup], "o-", color=color, label=f"{m.name}, rollup")
        ax.plot(
            xs,
            [m.twin_per_miner[n].value for n in xs],
            "s--",
            color=color,
            label=f"{m.name}, pure L1 (extrapolated)",
        )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="miners",
        ylabel="L1 gas a miner",
        title="Digits competition: L1 gas a miner",
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    names["miners"] = _save(fig, out_dir, f"{stem}_miners.png")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    xs = list(range(len(b.types)))
    width = 0.27
    ax.bar(
        [x - width for x in xs],
        [t.per_tx(t.gas) for t in b.types],
        width,
        label="L1 gas a tx (share by bytes)",
    )
    ax.bar(list(xs), [t.per_tx(t.floor) for t in b.types], width, label="EIP-7623 floor (10 a token)")
    ax.bar(
        [x + width for x in xs], [t.per_tx(t.calldata) for t in b.types], width, label="calldata floor (16/4)"
    )
    ax.set_xticks(list(xs), [t.name for t in b.types], rotation=30, ha="right", fontsize=8)
    ax.set(yscale="log", ylabel="gas a tx", title="L1 gas a L2 tx against the floors")
    ax.legend(fontsize=8)
    fig.tight_layout()
    names["floors"] = _save(fig, out_dir, f"{stem}_floors.png")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    left = [0.0] * len(b.types)
    for f in FIELDS:
        shares = [t.bytes_by_field[f] / t.bytes for t in b.types]
        ax.barh([t.name for t in b.types], shares, left=left, label=f)
        left = [a + s for a, s in zip(left, shares, strict=True)]
    total = b.share_of_fields()
    ax.set(
        xlabel="share of the tx's bytes",
        title="Where the bytes go (all bytes: "
        + ", ".join(f"{k} {100 * v:.0f}%" for k, v in total.items())
        + ")",
    )
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    names["fields"] = _save(fig, out_dir, f"{stem}_fields.png")
    return names


def _save(fig: Any, out_dir: Path, name: str) -> str:
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_dir / name, dpi=110)
    plt.close(fig)
    return name


def summary(t: Table1, c: Competitions, b: WhereBytes, d: Disputes, run: Run) -> dict[str, Any]:
    """The figures as JSON-ready data."""
    return {
        "command": run.command,
        "seconds": round(run.seconds, 1),
        "quick": run.quick,
        "prices": {"gwei": str(run.gwei), "eth_usd": str(run.eth_usd)},
        "table1": {
            name: {
                "paper": t.paper(name),
                "l1": t.twin(name),
                "l1_extrapolated": name == "full run" and not t.full_measured,
                "rollup_alone": t.alone.row(name),
                "rollup_shared": t.shared.row(name),
                "usd_l1": str(usd(t.twin(name), run.gwei, run.eth_usd)),
                "usd_rollup_alone": str(usd(t.alone.row(name), run.gwei, run.eth_usd)),
                "usd_rollup_shared": str(usd(t.shared.row(name), run.gwei, run.eth_usd)),
            }
            for name in ROWS
        }
        | {"alone_on_stack": t.alone_on_stack, "weights": list(t.shared.weights_full)},
        "competitions": {
            m.name: {
                str(r.miners): {
                    "rollup_per_miner": r.per_miner,
                    "l1_per_miner": m.twin_per_miner[r.miners].value,
                    "l1_extrapolated": m.twin_per_miner[r.miners].extrapolated,
                    "batches": len(r.batches),
                }
                for r in m.rollup
            }
            for m in c.models
        },
        "bytes": {
            t.name: {
                "txs": t.count,
                "bytes_per_tx": t.bytes / t.count,
                "by_field": t.bytes_by_field,
                "gas_per_tx": t.per_tx(t.gas),
                "calldata_floor_per_tx": t.per_tx(t.calldata),
                "eip7623_floor_per_tx": t.per_tx(t.floor),
            }
            for t in b.types
        },
        "full_batches": [{"types": n, "txs": k, "gas": g, "floor": f} for n, k, g, f in b.full_batch_rows],
        "batch_fixed_cost": b.fixed_cost,
        "finalize_per_batch": b.finalize_per_batch,
        "disputes": [
            {
                "batch": r.batch,
                "kind": r.kind,
                "step": r.step,
                "steps": r.steps,
                "proven_step": r.proven_step,
                "deleted": r.deleted,
                "witness_bytes": r.witness_bytes,
                "challenge": r.challenge,
                "reveal_steps": r.reveal,
                "prove_fraud": r.proof,
                "total": r.total,
                "append_batch": r.posting,
            }
            for r in d.rows
        ],
    }
