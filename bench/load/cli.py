"""`python -m bench.load`: a bounded load of every tx type against a stack, from another process.

Without `--url` it starts a temporary stack on free 127.0.0.1 ports (`mlrollup.localstack`: devnet,
contracts, sequencer with its batcher and its executor process, verifier) and stops it at the end;
with `--url` (and `--l1-url`, `--key`: an L1 account with ETH) it drives a running one, such as
`mlrollup up`'s. It funds `--concurrency` fresh accounts by L1 deposits, then each sends rounds of
every tx type through its own `AsyncClient` (`bench.load.workload`: Transfer, Withdraw, CreateModel,
AddData, Train, CreateTask, CommitModel, RevealTestSet, RevealModel, FinalizeTask), until `--txs`
submissions in all or `--max-seconds`; then it waits until every acknowledged tx is in a block.
Prints the throughput, the latency to acceptance and to receipt (p50, p99, by type), errors by
kind, failed receipts by reason, and the memory of the sequencer and of its executor processes over
time. Exits 1 if an acknowledged tx never reached a block.

    python -m bench.load                    # 20,000 txs at concurrency 32
    python -m bench.load --quick            # 300 txs at concurrency 8: what CI runs
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.load.stats import BlockFollower, MemoryWatch, percentile
from bench.load.workload import Budget, Sender, Sent, Tally, Windows, run_senders
from client.errors import ClientError
from client.l1 import L1Account
from client.sdk import AsyncClient
from l1_contracts.devnet import dev_accounts
from l1_contracts.errors import L1Error
from mlrollup.localstack import LocalStack, StackConfig, start_local_stack
from mlrollup.processes import LaunchError, Roles, listener_pid

# each account's deposit: far more than its transfers, rewards and fees (a dev account holds 1,000 ETH)
FUNDING = 20 * 10**18
FUNDER = 4  # dev account 4 of `mlrollup up` (0 deploys, 1 proposes, 2 challenges, 3 is the demo's)
HEAVY = ("Train", "RevealTestSet", "RevealModel")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n\n")[0].split(": ", 1)[1]
    )
    parser.add_argument("--url", help="a running sequencer (default: start a temporary stack)")
    parser.add_argument("--l1-url", default="http://127.0.0.1:8545", help="with --url (default %(default)s)")
    parser.add_argument(
        "--key", help="with --url: the L1 key that funds the accounts (default: dev account 4)"
    )
    parser.add_argument("--txs", type=int, default=20_000, help="submissions in all (default %(default)s)")
    parser.add_argument("--concurrency", type=int, default=32, help="senders at once (default %(default)s)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=3_600,
        help="the load stops then at the latest (default %(default)s)",
    )
    parser.add_argument("--commit-window", type=float, default=6.0, help="seconds (default %(default)s)")
    parser.add_argument("--reveal-window", type=float, default=10.0, help="seconds (default %(default)s)")
    parser.add_argument(
        "--batch-max-age", type=float, default=2.0, help="temporary stack: seconds (default %(default)s)"
    )
    parser.add_argument(
        "--block-interval", type=float, default=0.5, help="temporary stack: seconds (default %(default)s)"
    )
    parser.add_argument(
        "--pid", type=int, help="the sequencer's process (default: the one listening on --url)"
    )
    parser.add_argument(
        "--filler-pause",
        type=float,
        default=0.0,
        help="seconds between the transfers a sender sends while it waits for a deadline "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="300 txs at concurrency 8, fillers 0.3 s apart, no verifier (CI)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary stack's data and logs")
    return parser


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    l1_url: str
    key: str
    pid: int
    batch_lag_s: float


async def _fund(target: Target, clients: list[AsyncClient]) -> None:
    domain = await clients[0].domain()
    funder = await asyncio.to_thread(L1Account, target.l1_url, target.key, domain)
    for c in clients:
        await asyncio.to_thread(funder.deposit, FUNDING, c.wallet.address)
    await asyncio.gather(*(c.wait_for_balance(FUNDING, timeout=300) for c in clients))


async def _load(target: Target, args: argparse.Namespace, console: Console) -> int:
    # fresh keys each run: a running stack keeps the accounts of earlier runs
    keys = ["0x" + secrets.token_bytes(32).hex() for _ in range(args.concurrency)]
    clients = [AsyncClient(target.url, key, timeout=60) for key in keys]
    reader = AsyncClient(target.url, timeout=60)
    try:
        started = time.monotonic()
        await _fund(target, clients)
        console.print(f"funded {len(clients)} accounts by L1 deposits in {time.monotonic() - started:.1f} s")
        windows = Windows(args.commit_window, args.reveal_window, target.batch_lag_s, args.filler_pause)
        budget = Budget(args.txs, time.monotonic() + args.max_seconds)
        tally = Tally()
        peers = [c.address for c in clients]
        senders = [
            Sender(c, budget, tally, windows, [p for p in peers if p != c.address], i)
            for i, c in enumerate(clients)
        ]
        follower, memory, stopping = BlockFollower(reader), MemoryWatch(target.pid), asyncio.Event()
        follow = asyncio.create_task(follower.run())
        watch = asyncio.create_task(memory.run(stopping))
        load_started = time.time()
        await run_senders(senders)
        load_s = time.time() - load_started
        drain_deadline = time.monotonic() + 600
        while any(s.hash not in follower.executed for s in tally.sent) and time.monotonic() < drain_deadline:
            await asyncio.sleep(0.5)
        drained_s = time.time() - load_started
        follower.stopping.set()
        stopping.set()
        await asyncio.gather(follow, watch)
        failed = await _failed_receipts(reader, [s.hash for s in tally.sent if s.hash in follower.executed])
        lost = [s for s in tally.sent if s.hash not in follower.executed]
        _report(console, tally, follower, memory, failed, lost, load_s, drained_s, args)
        return 1 if lost or not tally.sent else 0
    finally:
        for c in [*clients, reader]:
            await c.close()


async def _failed_receipts(reader: AsyncClient, hashes: list[str]) -> Counter[str]:
    """Receipts that say failed, by reason (32 reads at a time)."""
    failed: Counter[str] = Counter()
    gate = asyncio.Semaphore(32)

    async def one(tx_hash: str) -> None:
        for attempt in range(3):  # a read cut off under load is read again, then counted
            try:
                async with gate:
                    info = await reader.tx(tx_hash)
                break
            except ClientError as exc:
                if attempt == 2:
                    failed[f"receipt not read: {exc.code}"] += 1
                    return
                await asyncio.sleep(1.0)
        if info.receipt is not None and not info.receipt.success:
            failed[f"{info.type}: {info.receipt.reason}"] += 1

    await asyncio.gather(*(one(h) for h in hashes))
    return failed


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def _report(
    console: Console,
    tally: Tally,
    follower: BlockFollower,
    memory: MemoryWatch,
    failed: Counter[str],
    lost: list[Sent],
    load_s: float,
    drained_s: float,
    args: argparse.Namespace,
) -> None:
    sent = tally.sent
    by_kind: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for s in sent:
        executed = follower.executed.get(s.hash)
        by_kind[s.kind].append((s.accepted_s, (executed - s.sent_at) if executed is not None else -1.0))
    table = Table(title="latency by tx type", title_justify="left")
    for name in ("type", "acked", "accept p50", "accept p99", "receipt p50", "receipt p99"):
        table.add_column(name, justify="left" if name == "type" else "right")
    everything = [v for values in by_kind.values() for v in values]
    for kind, values in [*sorted(by_kind.items()), ("all", everything)]:
        accept = [a for a, _ in values]
        receipt = [r for _, r in values if r >= 0]
        table.add_row(
            kind,
            f"{len(values):,}",
            _ms(percentile(accept, 50)),
            _ms(percentile(accept, 99)),
            _ms(percentile(receipt, 50)),
            _ms(percentile(receipt, 99)),
        )
    console.print(table)
    mem = Table(title="sequencer memory (RSS) over time", title_justify="left")
    for name in ("t", "sequencer", "executors", "processes"):
        mem.add_column(name, justify="right")
    step = max(1, len(memory.samples) // 12)
    for sample in [*memory.samples[::step], *memory.samples[-1:]]:
        mem.add_row(
            f"{sample.at_s:.0f} s",
            f"{sample.sequencer_bytes / 2**20:,.0f} MB",
            f"{sample.executor_bytes / 2**20:,.0f} MB",
            str(sample.processes),
        )
    console.print(mem)
    heavy = sum(1 for s in sent if s.kind in HEAVY)
    errors = dict(tally.errors) or "none"
    peak = memory.peak()
    print(
        f"load: {len(sent):,} txs acknowledged of {args.txs:,} planned at concurrency {args.concurrency} "
        f"({heavy:,} heavy: {', '.join(HEAVY)}), {len(by_kind)} tx types, in {load_s:.1f} s: "
        f"{len(sent) / load_s:.1f} txs/s acknowledged; all in blocks after {drained_s:.1f} s: "
        f"{len(sent) / drained_s:.1f} txs/s executed; {follower.blocks} blocks",
        flush=True,
    )
    accept = [s.accepted_s for s in sent]
    receipt = [follower.executed[s.hash] - s.sent_at for s in sent if s.hash in follower.executed]
    print(
        f"latency: to acceptance p50 {_ms(percentile(accept, 50))}, p99 {_ms(percentile(accept, 99))}; "
        f"to receipt p50 {_ms(percentile(receipt, 50))}, p99 {_ms(percentile(receipt, 99))}",
        flush=True,
    )
    print(f"errors by kind: {errors}; failed receipts: {dict(failed) or 'none'}; never executed: {len(lost)}")
    if peak is not None:
        first, last = memory.samples[0], memory.samples[-1]
        print(
            f"memory: sequencer {first.sequencer_bytes / 2**20:,.0f} MB at start, "
            f"{last.sequencer_bytes / 2**20:,.0f} MB at the end, peak with executors "
            f"{(peak.sequencer_bytes + peak.executor_bytes) / 2**20:,.0f} MB at {peak.at_s:.0f} s "
            f"({len(memory.samples)} samples)",
            flush=True,
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the load; 0 when every acknowledged tx reached a block."""
    args = _parser().parse_args(argv)
    if args.quick:
        args.txs, args.concurrency, args.filler_pause = min(args.txs, 300), min(args.concurrency, 8), 0.3
        args.commit_window, args.reveal_window, args.batch_max_age = 2.0, 2.0, 1.0
    console = Console(width=160)
    directory: Path | None = None
    stack: LocalStack | None = None
    failed = True
    try:
        if args.url is None:
            directory = Path(tempfile.mkdtemp(prefix="mlrollup-load-"))
            console.print(f"starting a temporary stack in {directory} …")
            config = StackConfig(
                batch_age_s=args.batch_max_age,
                block_interval_s=args.block_interval,
                executor="process",
                verifier=not args.quick,  # CI's short run measures the sequencer alone: one process less
            )
            stack = start_local_stack(Roles(directory / "logs"), directory, config)
            target = Target(
                stack.api_url,
                stack.l1_url,
                dev_accounts()[FUNDER].private_key,
                stack.role("sequencer").popen.pid,
                args.batch_max_age,
            )
        else:
            port = int(args.url.rstrip("/").rsplit(":", 1)[1])
            pid = args.pid or listener_pid(port)
            if pid is None:
                console.print(f"[red]error:[/red] no process listens on port {port}: pass --pid")
                return 1
            key = args.key or dev_accounts()[FUNDER].private_key
            target = Target(args.url, args.l1_url, key, pid, args.batch_max_age)
        code = asyncio.run(_load(target, args, console))
        failed = code != 0
        return code
    except (LaunchError, ClientError, L1Error, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1
    finally:
        if stack is not None:
            stack.stop()
        if directory is not None:
            if args.keep or failed:
                print(f"the temporary stack's data and logs: {directory}")
            else:
                shutil.rmtree(directory, ignore_errors=True)
