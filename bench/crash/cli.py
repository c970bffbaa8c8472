"""`python -m bench.crash`: SIGKILL the roles of a local stack at chosen points, restart, check.

Starts a temporary stack on free 127.0.0.1 ports (`mlrollup.localstack`: devnet, contracts,
sequencer with blocks executing in its executor process, the batcher apart, verifier), funds a few
accounts by L1 deposits, and runs a bounded load through the SDK while it kills one role after
another at the points of `bench.crash.harness` (the sequencer while it executes a heavy tx, between
storing and acknowledging, while a batch is posted, during a dispute; the batcher while it posts and
during a dispute; the verifier while it judges and during a dispute; the devnet). After each restart
it waits until the stack is quiet and checks (`bench.crash.checks`): every acknowledged tx has its
receipt and is in a batch L1 holds, the state root is the replay of L1's batches, no batch posted
twice or skipped, the verifier agrees, no process or file left behind. Prints a table of the kills
by target and point with what each check found; exits 1 if any check failed.

    python -m bench.crash --kills 50    # the long run (about half an hour)
    python -m bench.crash --quick       # two kills, about a minute: what CI runs
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.crash.checks import CrashCheckError
from bench.crash.harness import QUICK, Run, run
from client.errors import ClientError
from mlrollup.processes import LaunchError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.crash", description=__doc__.split("\n\n")[0].split(": ", 1)[1]
    )
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs in all (default %(default)s)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="two kills (the sequencer acknowledging, the batcher posting) on three accounts (CI)",
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="draws the delays and the load (default %(default)s)"
    )
    parser.add_argument("--accounts", type=int, default=6, help="L2 accounts sending (default %(default)s)")
    parser.add_argument(
        "--minutes", type=float, default=0.0, help="start no kill after this long (default: no limit)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the stacks' databases and logs")
    return parser


def table(result: Run) -> Table:
    """The kills, one row each."""
    out = Table(title="SIGKILLs and what the checks found after each restart", title_justify="left")
    numbers = ("#", "back in", "acked", "L1 batches (frauds proven)")
    for name in (
        "#",
        "target",
        "point",
        "what it hit",
        "back in",
        "acked",
        "L1 batches (frauds proven)",
        "appends",
    ):
        out.add_column(name, justify="right" if name in numbers else "left")
    out.add_column("children alive after")
    out.add_column("problems")
    for kill in result.kills:
        c = kill.checked
        appends = "-" if c.appends is None else f"{c.appends.appends} ({c.appends.deleted} deleted)"
        orphans = f"{c.orphans} of {c.descendants} ({c.orphans_gone_s:.1f} s)"
        out.add_row(
            str(kill.number),
            kill.target,
            kill.point,
            kill.aimed,
            f"{kill.recovery_s:.1f} s",
            str(c.acked),
            f"{c.batches} ({c.frauds})",
            appends,
            orphans,
            "none" if not c.problems else "; ".join(c.problems[:3]),
        )
    return out


def summary(result: Run) -> Table:
    """Kills by target and point, and how many passed every check."""
    out = Table(title="kills by target and point", title_justify="left")
    for name in ("target", "point", "kills", "all checks held"):
        out.add_column(name)
    counts = Counter((k.target, k.point) for k in result.kills)
    held = Counter((k.target, k.point) for k in result.kills if not k.checked.problems)
    for key in sorted(counts):
        out.add_row(key[0], key[1], str(counts[key]), str(held[key]))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the harness; 0 when every check of every kill held."""
    args = _parser().parse_args(argv)
    kills = min(args.kills, len(QUICK)) if args.quick else args.kills
    console = Console(width=200)  # the table is wide; a log file has no terminal to size it by
    root = Path(tempfile.mkdtemp(prefix="mlrollup-crash-"))
    failed = True
    try:
        result = run(
            root,
            kills,
            quick=args.quick,
            seed=args.seed,
            accounts=min(args.accounts, 3) if args.quick else args.accounts,
            log=lambda line: console.print(line, highlight=False),
            minutes=args.minutes,
        )
    except (CrashCheckError, LaunchError, ClientError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        console.print(f"the stacks' data and logs: {root}", highlight=False)
        return 1
    console.print(table(result))
    console.print(summary(result))
    survived = sum(1 for k in result.kills if not k.checked.problems)
    checked = result.kills[-1].checked.acked if result.kills else 0
    print(
        f"{len(result.kills)} kills in {result.seconds:.0f} s on {result.stacks} stack(s): "
        f"{survived} with every check held; {result.acked} txs acknowledged in all "
        f"({checked} on the last stack at its last check); {result.unanswered} submissions cut off "
        f"by a kill before their answer (not acknowledged), {result.down} not sent while a role "
        f"was down; refused by code: {result.refused or 'none'}"
    )
    for problem in result.final_problems:
        print(f"after the run: {problem}")
    failed = survived != len(result.kills) or bool(result.final_problems)
    if args.keep or failed:
        print(f"the stacks' data and logs: {root}", file=sys.stderr)
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0
