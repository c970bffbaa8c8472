"""The command: `mlrollup bench gas` and `python -m bench.gas` (flags in `--help`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rich.console import Console

from bench.gas import competitions, disputes, report, table1, where_bytes
from bench.gas.floors import PAPER_ETH_USD, PAPER_GWEI
from service.recursion import cap_recursion_limit

DEFAULT_MINERS = (1, 10, 100, 1_000)
QUICK_MINERS = (1, 10)
N_TEST = 360
QUICK_N_TEST = 24
TWIN_SIZES = (8, 16)
QUICK_TWIN_SIZES = (2, 4)
EPOCHS, QUICK_EPOCHS = 60, 5


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted({int(s) for s in text.split(",") if s.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of miner counts") from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("miner counts are positive")
    return sizes


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("prices are positive")
    return value


def parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, description=(__import__("bench.gas").gas.__doc__ or "").split("\n\n")[0]
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="CI sizes: 1 and 10 miners, 24 test samples, "
        "3 twin epochs, the Table I workload alone on the in-process L1 instead of a stack, "
        "disputes of 3 step kinds",
    )
    p.add_argument("--miners", type=_sizes, help="competition sizes (default 1,10,100,1000; quick 1,10)")
    p.add_argument(
        "--gwei", type=_decimal, default=PAPER_GWEI, help="gas price for the USD column (default %(default)s)"
    )
    p.add_argument("--eth-usd", type=_decimal, default=PAPER_ETH_USD, help="USD an ETH (default %(default)s)")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("docs/results/gas.md"),
        help="the report (default %(default)s; "
        "the PNGs go beside it); with --quick, the default is not written unless given",
    )
    p.add_argument("--json", type=Path, help="also write the figures as JSON to this file ('-': stdout)")
    return p


def main(argv: Sequence[str] | None = None, prog: str = "python -m bench.gas") -> int:
    """Run every section, write the report and its plots; 0 when every bit check held."""
    cap_recursion_limit()
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parser(prog).parse_args(raw)
    console = Console(stderr=True)
    started = time.monotonic()
    sizes = args.miners or (QUICK_MINERS if args.quick else DEFAULT_MINERS)
    console.print("Table I: the paper's workload, pure L1 and through the rollup …")
    t1 = table1.run(args.quick, console)
    console.print("competitions at scale …")
    comp = competitions.run(
        sizes,
        QUICK_N_TEST if args.quick else N_TEST,
        QUICK_TWIN_SIZES if args.quick else TWIN_SIZES,
        QUICK_EPOCHS if args.quick else EPOCHS,
        log=console.print,
    )
    console.print("disputes: a fraud proof by step kind …")
    dis = disputes.run(disputes.QUICK_KINDS if args.quick else None, log=console.print)
    batches = [*t1.shared_batches, *(b for m in comp.models for r in m.rollup for b in r.batches)]
    wb = where_bytes.analyse(batches)
    run = report.Run(
        " ".join([prog, *raw]),
        args.quick,
        args.gwei,
        args.eth_usd,
        time.monotonic() - started,
        datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    write = not args.quick or "--out" in " ".join(raw)
    plots = report.plot(comp, wb, args.out.parent, args.out.stem) if write else {}
    text = report.render(t1, comp, wb, dis, run, plots)
    if write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        console.print(f"wrote {args.out} and {', '.join(plots.values())}")
    print("\n".join(line for line in text.splitlines() if line.startswith("|") or line.startswith("- ")))
    if args.json is not None:
        data = json.dumps(report.summary(t1, comp, wb, dis, run), indent=1, default=str) + "\n"
        if str(args.json) == "-":
            sys.stdout.write(data)
        else:
            args.json.write_text(data)
    problems = t1.problems() + comp.problems() + dis.problems()
    for problem in problems:
        console.print(f"[bold red]check failed[/]: {problem}", highlight=False)
    return 1 if problems else 0
