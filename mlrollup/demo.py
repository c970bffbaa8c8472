"""`mlrollup demo`: the rollup's story end to end, against a running stack or a temporary one.

The story itself is `client.demo` (SDK only); the digits task and its miners `client.digits`; the
pure on-chain twins' gas for the same work `bench.demo_twins`. This module parses the flags, starts
a temporary stack with `mlrollup.up` when no `--url` is given, runs the three, and prints the
summary: rich tables, or one JSON object with `--json`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import queue
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from bench.demo_twins import DEFAULT_EPOCHS, DEFAULT_SIZES, TwinGas, measure_to_queue, planned_txs
from client import demo, digits
from client.demo import DemoConfig, DemoError, StoryResult, new_progress, run_story, step
from client.digits import Strategy
from client.errors import ClientError
from l1_contracts.devnet import DEFAULT_BLOCK_INTERVAL_S, dev_accounts
from l1_contracts.errors import L1Error
from mlrollup import up
from protocol import paper
from service.recursion import cap_recursion_limit

SUBMITTER = 3  # dev account 3 of `mlrollup up`: the first one no role uses
DEFAULT_URL_HINT = "http://127.0.0.1:8000"

DESCRIPTION = """\
The rollup's story end to end, in about a minute.

A submitter deposits ETH on L1 and waits until L2 credits it, then funds a digits classification
task: scikit-learn's bundled load_digits (1,797 8x8 images, no download), a stratified 20% split
holding out 360 test samples that stay hidden behind a commitment until the commit deadline. Five
miners compete with an MLP 64-16-10 trained on the other 1,437 samples: ada (well trained), ben
(under-trained), cy (tiny: 4 hidden units padded to 16), dot (lazy: random untrained weights) and
eve, a copycat who copies ada's commitment from its public tx and then ada's revealed weights: the
rollup refuses that reveal (hash_mismatch: a commitment binds the miner's address), so eve gains
nothing. Each miner's score on L2 (the correct count) must equal the one client.miner.local_score
computes locally, bit for bit; the best is paid by FinalizeTask. Meanwhile a trainer creates the
paper's shared linear regression, adds its nine points and trains it 2,000 epochs to the paper's
weights (709424000, -7180000). The winner withdraws its reward; once the withdrawal's batch is
final on L1 the submitter relays the claim to the Bridge and the winner's L1 balance grows by it.
The verifier re-executes every batch from L1 data meanwhile; its status closes the story.

The summary: each miner's accuracy, local and on-chain score and reward; the balances (deposited =
the change of the L2 balances + withdrawn); the batches posted and finalized during the demo; the
L1 gas of the Rollup's appendBatch and finalize transactions (their receipts); and the gas the same
work costs on the pure on-chain twins (OnChainRegression and OnChainCompetition), measured on an
in-process py-evm chain: 3 of the 2,000 train() calls and the competition round with 8 and 16 test
samples are measured and the rest extrapolated linearly (marked * in the table and "extrapolated"
in the JSON), unless --full-twins.

Without --url the demo starts a temporary stack of its own (mlrollup up's devnet, contracts,
sequencer with its batcher, verifier, on free ports in a temporary directory) and stops it at the
end. With --url it uses a running one: `mlrollup up` in another terminal, then `mlrollup demo --url
http://127.0.0.1:8000` (the other URLs and the key default to up's). Exit status 0 when every check
held, 1 otherwise (the reason on stderr)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlrollup demo",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    stack = parser.add_argument_group("the stack")
    stack.add_argument(
        "--url",
        help=f"a running sequencer's API (e.g. {DEFAULT_URL_HINT}, mlrollup up's); without it the demo "
        "starts a temporary stack of its own and stops it at the end",
    )
    stack.add_argument(
        "--l1-url",
        default="http://127.0.0.1:8545",
        help="with --url: the L1 JSON-RPC endpoint (default %(default)s); the Rollup and the Bridge are "
        "found from the sequencer's GET /v1/info",
    )
    stack.add_argument(
        "--verifier-url",
        default="http://127.0.0.1:8100",
        help="with --url: the verifier's API, whose /v1/status the demo reports (default %(default)s; "
        "'' for none)",
    )
    stack.add_argument(
        "--key",
        default=dev_accounts(SUBMITTER + 1)[SUBMITTER].private_key,
        help="with --url: the submitter's key, an L1 account with ETH for the deposit and the claim's gas "
        "(default: dev account 3 of mlrollup up). The miners and the trainer get fresh keys",
    )
    temporary = parser.add_argument_group("the temporary stack (without --url), as mlrollup up's flags")
    temporary.add_argument("--challenge-window", type=int, default=10, help="seconds (default %(default)s)")
    temporary.add_argument("--batch-max-age", type=float, default=5.0, help="seconds (default %(default)s)")
    temporary.add_argument(
        "--block-interval", type=float, default=1.0, help="seconds between L2 blocks (default %(default)s)"
    )
    temporary.add_argument(
        "--l1-block-interval",
        type=float,
        default=DEFAULT_BLOCK_INTERVAL_S,
        help="seconds between the devnet's empty blocks (default %(default)s)",
    )
    temporary.add_argument(
        "--keep", action="store_true", help="keep its data directory (databases, logs) and print where"
    )
    story = parser.add_argument_group("the story")
    story.add_argument(
        "--test-samples",
        type=int,
        default=360,
        help="hidden test samples, the first of the 20%% split (default %(default)s, all of it)",
    )
    story.add_argument("--reward", default="1", help="the task's reward in ETH (default %(default)s)")
    story.add_argument(
        "--deposit",
        default="1.5",
        help="the submitter's deposit in ETH, at least the reward (default %(default)s)",
    )
    story.add_argument(
        "--commit-window",
        type=float,
        help="seconds from CreateTask to the commit deadline (default: 5 + 2 block intervals)",
    )
    story.add_argument(
        "--reveal-window",
        type=float,
        help="seconds from the commit deadline to the reveal deadline (default: the batch max age + 4 "
        "block intervals + 6; a batch's txs run at its opening time, which lags the clock)",
    )
    story.add_argument(
        "--quick",
        action="store_true",
        help="train the miners a tenth of their epochs and measure the twins smaller (1 train() call, "
        "4 and 8 test samples): less CPU, the same story against the same stack",
    )
    story.add_argument(
        "--full-twins",
        action="store_true",
        help="measure all of the twins' work, nothing extrapolated (all 2,000 train() calls and the "
        "whole test set: minutes on py-evm), and check their weights and scores against the rollup's",
    )
    story.add_argument(
        "--timeout", type=float, default=300.0, help="seconds any wait may take (default %(default)s)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the summary as one JSON object on stdout (progress on stderr)",
    )
    return parser


def _eth(text: str) -> int:
    try:
        wei = Decimal(text) * 10**18
    except ArithmeticError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount of ETH") from None
    if wei <= 0 or wei != wei.to_integral_value():
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive amount of ETH")
    return int(wei)


class _TwinsProcess:
    """`bench.demo_twins.measure` in a process of its own, its transactions counted on a bar: in a
    thread of this process py-evm would hold the GIL and slow the story's requests past their
    deadlines."""

    def __init__(self, progress: Progress, bar: TaskID, kwargs: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")  # this process has threads: no fork
        self.queue = context.Queue()
        self.process = context.Process(
            target=measure_to_queue, args=(self.queue, kwargs), name="demo-twins", daemon=True
        )
        self.process.start()
        self.progress, self.bar = progress, bar
        self.result: TwinGas | None = None
        self.error: str | None = None
        self.reader = threading.Thread(target=self._read, name="demo-twins-reader", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                kind, value = self.queue.get(timeout=1.0)
            except queue.Empty:
                if not self.process.is_alive():
                    self.error = f"its process exited with status {self.process.exitcode}"
                    return
                continue
            if kind == "tx":
                self.progress.advance(self.bar)
            elif kind == "done":
                self.result = value
                return
            else:
                self.error = str(value)
                return

    def wait(self, timeout: float) -> TwinGas:
        """The figures, once measured; `DemoError` if the measurement failed or took too long."""
        self.reader.join(timeout)
        if self.result is None:
            raise DemoError(
                f"the twins' gas was not measured: {self.error or f'not done in {timeout:.0f} s'}"
            )
        self.progress.update(self.bar, status=f"{self.result.seconds:.0f} s of py-evm")
        return self.result

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(10)


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; 0 when every check held."""
    cap_recursion_limit()  # web3's imports raised it (py_ecc): see service.recursion
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        reward, deposit = _eth(args.reward), _eth(args.deposit)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    if deposit < reward:
        parser.error("--deposit must be at least --reward")
    err = Console(stderr=True)
    started = time.monotonic()
    data = digits.load(args.test_samples)
    stack: up.Stack | None = None
    data_dir: Path | None = None
    failed = True
    stack_s = 0.0
    twins: _TwinsProcess | None = None
    try:
        with new_progress(err) as progress:
            plans = list(digits.MINERS)
            honest = [p for p in plans if p.strategy != Strategy.COPYCAT]
            scale = 0.1 if args.quick else 1.0
            with step(progress, "the miners train (float torch, then fixed point)", total=len(honest)) as bar:
                weights = {}
                for plan in honest:
                    weights[plan.name] = digits.make_weights(plan, data, scale)
                    progress.advance(bar)
            twins_epochs, twins_sizes = (1, (4, 8)) if args.quick else (DEFAULT_EPOCHS, DEFAULT_SIZES)
            copycats = len(plans) - len(honest)
            twin_bar = progress.add_task(
                "the same work on the pure on-chain twins (py-evm)",
                total=planned_txs(
                    len(honest),
                    copycats,
                    full=args.full_twins,
                    epochs=twins_epochs,
                    sizes=twins_sizes,
                    paper_epochs=paper.PAPER_EPOCHS,
                ),
                status="",
            )
            twins = _TwinsProcess(
                progress,
                twin_bar,
                {
                    "spec": digits.SPEC,
                    "features": data.features,
                    "labels": data.labels,
                    "weights": [weights[p.name] for p in honest],
                    "copycats": copycats,
                    "paper": (
                        paper.PAPER_X,
                        paper.PAPER_Y,
                        paper.PAPER_INITIAL,
                        paper.PAPER_LEARNING_RATE,
                        paper.PAPER_EPOCHS,
                    ),
                    "full": args.full_twins,
                    "epochs": twins_epochs,
                    "sizes": twins_sizes,
                },
            )
            if args.url is None:
                data_dir = Path(tempfile.mkdtemp(prefix="mlrollup-demo-"))
                host = "127.0.0.1"
                options = up.Options(
                    data_dir,
                    host,
                    _free_port(host),
                    _free_port(host),
                    _free_port(host),
                    args.challenge_window,
                    args.batch_max_age,
                    args.block_interval,
                    args.l1_block_interval,
                )
                with step(progress, "a temporary stack: mlrollup up on free ports"):
                    stack_started = time.monotonic()
                    stack, _deployment, accounts = up.start(options, progress.console)
                    stack_s = time.monotonic() - stack_started
                config = DemoConfig(
                    f"http://{host}:{options.port}",
                    f"http://{host}:{options.l1_port}",
                    f"http://{host}:{options.verifier_port}",
                    accounts[SUBMITTER].private_key,
                    reward,
                    deposit,
                    args.commit_window,
                    args.reveal_window,
                    args.timeout,
                )
            else:
                config = DemoConfig(
                    args.url,
                    args.l1_url,
                    args.verifier_url or None,
                    args.key,
                    reward,
                    deposit,
                    args.commit_window,
                    args.reveal_window,
                    args.timeout,
                )
            story = run_story(config, data, plans, weights, progress)
            twin_gas = twins.wait(args.timeout * (10 if args.full_twins else 1))
        summary = build_summary(story, twin_gas, args, stack is not None, stack_s, time.monotonic() - started)
        problems = check(summary)
        if args.json:
            print(json.dumps(summary), flush=True)
        else:
            Console().print(*render(summary))
        for problem in problems:
            err.print(f"[bold red]check failed[/]: {problem}", highlight=False)
        failed = bool(problems)
        return 1 if problems else 0
    except (DemoError, ClientError, up.UpError, L1Error, OSError, TimeoutError) as exc:
        err.print(f"[bold red]error[/]: {exc}", highlight=False)
        return 1
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    finally:
        if twins is not None:
            twins.stop()
        if stack is not None:
            err.print("stopping the temporary stack …")
            stack.stop()
        if data_dir is not None:
            if args.keep or failed:
                err.print(f"the temporary stack's data and logs: {data_dir}", highlight=False)
            else:
                shutil.rmtree(data_dir, ignore_errors=True)


# --- the summary ---------------------------------------------------------------------------------


def build_summary(
    story: StoryResult,
    twins: TwinGas,
    args: argparse.Namespace,
    temporary: bool,
    stack_s: float,
    elapsed_s: float,
) -> dict[str, Any]:
    """The summary as JSON-ready data (wei and gas as integers)."""
    total_change = sum(b.l2_after - b.l2_before for b in story.balances)
    verifier = None
    if story.verifier is not None:
        v = story.verifier
        disputes = {str(k): int(n) for k, n in (v.get("disputes") or {}).items()}
        verdicts = {str(k): int(n) for k, n in (v.get("verdicts") or {}).items()}
        verifier = {
            "batches_checked": sum(verdicts.values()),
            "verdicts": verdicts,
            "latest_checked": v.get("latest_checked"),
            "finalized_count": v.get("finalized_count"),
            "disagreements": v.get("disagreements"),
            "disputes": disputes,
            "disputes_total": sum(disputes.values()),
            "challenger": v.get("challenger"),
            "gas_spent": v.get("gas_spent"),
            "caught_up": v.get("caught_up"),
        }
    miners = [asdict(m) for m in story.miners]
    return {
        "elapsed_s": round(elapsed_s, 1),
        "stack_start_s": round(stack_s, 1) if temporary else None,
        "story_s": round(story.timings.get("total", 0.0), 1),
        "timings_s": {k: round(v, 1) for k, v in story.timings.items()},
        "stack": {**story.stack, "temporary": temporary},
        "options": {
            "test_samples": args.test_samples,
            "quick": args.quick,
            "full_twins": args.full_twins,
            "commit_window_s": story.windows[0],
            "reveal_window_s": story.windows[1],
        },
        "task": {
            "id": story.task_id,
            "model": "MLP 64-16-10",
            "dataset": "sklearn load_digits, stratified 80/20 split (seed 0)",
            "n_train": story.n_train,
            "n_test": story.n_test,
            "reward": story.reward,
            "commit_deadline": story.commit_deadline,
            "reveal_deadline": story.reveal_deadline,
        },
        "miners": miners,
        "winner": story.winner,
        "winner_address": story.winner_address,
        "best_by_local_score": story.best_by_local_score,
        "balances": {
            "accounts": [asdict(b) for b in story.balances],
            "deposited": story.deposited,
            "withdrawn": story.withdrawn,
            "l2_change": total_change,
            "adds_up": story.deposited == total_change + story.withdrawn,
            "submitter_l1_delta": story.submitter_l1_delta,
        },
        "batches": {
            "posted": len(story.batches_posted),
            "finalized": len(story.batches_finalized),
            "posted_ids": story.batches_posted,
            "finalized_ids": story.batches_finalized,
        },
        "withdrawal": asdict(story.withdrawal) | {"l1_balance_delta": story.withdrawal.l1_balance_delta},
        "shared_model": asdict(story.shared_model),
        "l1_gas": {
            "rollup": asdict(story.l1_gas) | {"total": story.l1_gas.total},
            "claim": story.withdrawal.claim_gas,
        },
        "twin_gas": twins.as_json(),
        "verifier": verifier,
    }


def check(summary: dict[str, Any]) -> list[str]:
    """What the summary must show; each failed check's line (empty when all hold)."""
    problems = []
    if summary["winner"] != summary["best_by_local_score"]:
        problems.append(f"the winner {summary['winner']} is not the best local score's miner")
    if not summary["balances"]["adds_up"]:
        b = summary["balances"]
        problems.append(
            f"deposited {b['deposited']} != L2 change {b['l2_change']} + withdrawn {b['withdrawn']}"
        )
    if summary["batches"]["finalized"] == 0:
        problems.append("no batch of the demo was finalized")
    twins = summary["twin_gas"]
    if not twins["regression"]["extrapolated"] and list(twins["regression"]["weights"]) != list(
        demo.PAPER_WEIGHTS
    ):
        problems.append(
            f"the regression twin's weights are {twins['regression']['weights']}, not the paper's"
        )
    twin_scores = twins["competition"]["scores"]
    rollup_scores = [m["score"] for m in summary["miners"] if m["local_score"] is not None]
    if twin_scores is not None and list(twin_scores) != rollup_scores:
        problems.append(f"the competition twin scored {list(twin_scores)}, the rollup {rollup_scores}")
    v = summary["verifier"]
    if v is not None and (v["disputes_total"] or v["disagreements"]):
        problems.append(f"the verifier disagreed {v['disagreements']} times, disputes {v['disputes']}")
    return problems


def _wei(value: int) -> str:
    return f"{Decimal(value) / 10**18:f}".rstrip("0").rstrip(".") + " ETH" if value else "0"


def render(summary: dict[str, Any]) -> list[Table]:
    """The closing tables: the miners, then the rest."""
    task = summary["task"]
    miners = Table(
        title=f"task {task['id']}: MLP 64-16-10 on {task['n_test']} hidden digits "
        f"(trained on {task['n_train']}), reward {_wei(task['reward'])}",
        title_justify="left",
    )
    for column in ("miner", "strategy", "accuracy", "local score", "rollup score", "rank", "reward"):
        miners.add_column(column, justify="left" if column in ("miner", "strategy") else "right")
    for m in summary["miners"]:
        miners.add_row(
            m["name"] + (" 🏆" if m["name"] == summary["winner"] else ""),
            m["description"],
            "-" if m["accuracy"] is None else f"{100 * m['accuracy']:.1f}%",
            "-" if m["local_score"] is None else str(m["local_score"]),
            "refused" if m["refused"] else ("-" if m["score"] is None else str(m["score"])),
            "-" if m["rank"] is None else str(m["rank"]),
            _wei(m["reward"]),
        )
    refused = [m for m in summary["miners"] if m["refused"]]
    if refused:
        miners.caption = " ".join(
            f"{m['name']}'s reveal of copied weights was refused: {m['refused']} (a commitment binds "
            "the miner's address)."
            for m in refused
        )
        miners.caption_justify = "left"
    twins = summary["twin_gas"]
    reg, comp = twins["regression"], twins["competition"]
    rollup = summary["l1_gas"]["rollup"]
    star = "*"
    rows: list[tuple[str, str]] = [
        ("winner", f"{summary['winner']} (best local score: {summary['best_by_local_score']})"),
        (
            "shared model",
            f"weights {tuple(summary['shared_model']['weights'])} after {summary['shared_model']['epochs']} "
            f"epochs (the paper's {tuple(summary['shared_model']['expected'])})",
        ),
        (
            "balances",
            f"deposited {_wei(summary['balances']['deposited'])} = L2 change "
            f"{_wei(summary['balances']['l2_change'])} + withdrawn {_wei(summary['balances']['withdrawn'])}"
            + ("" if summary["balances"]["adds_up"] else "  [red]does not add up[/]"),
        ),
        (
            "withdrawal",
            f"{summary['withdrawal']['id']}: {_wei(summary['withdrawal']['amount'])} claimed in L1 tx "
            f"{summary['withdrawal']['claim_tx']}; the winner's L1 balance "
            f"+{_wei(summary['withdrawal']['l1_balance_delta'])}",
        ),
        (
            "batches",
            f"{summary['batches']['posted']} posted, {summary['batches']['finalized']} of them finalized",
        ),
        (
            "L1 gas, rollup",
            f"{rollup['total']:,} ({rollup['append_txs']} appendBatch {rollup['append_batch']:,} + "
            f"{rollup['finalize_txs']} finalize {rollup['finalize']:,})",
        ),
        (
            "L1 gas, twins",
            f"{twins['total']:,}{star if twins['extrapolated'] else ''} (regression "
            f"{reg['total']:,}{star if reg['extrapolated'] else ''} + competition "
            f"{comp['total']:,}{star if comp['extrapolated'] else ''}; deployments apart)",
        ),
        ("twins / rollup", f"{twins['total'] / max(rollup['total'], 1):,.0f}×"),
    ]
    v = summary["verifier"]
    if v is not None:
        verdicts = ", ".join(f"{k} {n}" for k, n in v["verdicts"].items())
        rows.append(
            (
                "verifier",
                f"{v['batches_checked']} batches checked since it started ({verdicts}), "
                f"{v['disagreements']} disagreements, {v['disputes_total']} disputes",
            )
        )
    rows.append(
        (
            "time",
            f"{summary['elapsed_s']:.0f} s"
            + (
                f" (the temporary stack started in {summary['stack_start_s']:.0f} s)"
                if summary["stack_start_s"]
                else ""
            ),
        )
    )
    table = Table(title="the rollup and the twins", title_justify="left", show_header=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in rows:
        table.add_row(name, value)
    notes = []
    if twins["extrapolated"]:
        notes.append(
            f"* extrapolated linearly: train() measured {reg['epochs_measured']} of {reg['epochs']} calls; "
            f"the competition round measured with {', '.join(map(str, comp['sizes_measured']))} test "
            f"samples and extrapolated per sample to {comp['n_test']} (revealTestSet "
            f"{comp['store_per_sample']:,.0f} gas a sample, the miners' revealModel "
            f"{comp['score_per_sample']:,.0f}); --full-twins measures it all"
        )
    if notes:
        table.caption = " ".join(notes)
        table.caption_justify = "left"
    return [miners, table]
