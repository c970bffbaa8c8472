"""The user commands of `mlrollup` (typer + rich): accounts, the fee schedule, deposits, transfers,
withdrawals and their claims, txs, tasks with their leaderboards, shared models, batches.

Every command takes `--url` and `--key` (or MLROLLUP_URL and MLROLLUP_KEY) and `--json`; L1
commands take `--l1-url` (MLROLLUP_L1_URL); the commands that send an L2 tx sign the deployment's fee
price as its `max_fee_price` (`--max-fee-price` or MLROLLUP_MAX_FEE_PRICE to sign another). A
`ClientError` exits with status 1 and the server's reason code and message on stderr. The SDK is
imported when a command runs, so `mlrollup --help` and the role commands do not pay for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from pydantic import BaseModel

    from client.l1 import L1Account
    from client.sdk import Client

PANEL = "Use the rollup"
DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_L1_URL = "http://127.0.0.1:8545"
UNITS = {"wei": 1, "gwei": 10**9, "eth": 10**18, "ether": 10**18}

app = typer.Typer(add_completion=False)
out = Console()
err = Console(stderr=True)

Url = Annotated[
    str, typer.Option("--url", envvar="MLROLLUP_URL", help="the sequencer's API", show_default=True)
]
Key = Annotated[
    str | None,
    typer.Option("--key", envvar="MLROLLUP_KEY", help="private key (0x hex); its address is your account"),
]
L1Url = Annotated[str, typer.Option("--l1-url", envvar="MLROLLUP_L1_URL", help="an L1 JSON-RPC endpoint")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]
Timeout = Annotated[float, typer.Option("--timeout", help="seconds to wait at most")]
NoWait = Annotated[bool, typer.Option("--no-wait", help="return once the tx is accepted, not executed")]
MaxFeePrice = Annotated[
    str | None,
    typer.Option(
        "--max-fee-price",
        envvar="MLROLLUP_MAX_FEE_PRICE",
        help="the most a fee unit may cost, signed into the tx: wei or with a unit (20gwei); default: "
        "the deployment's fee price (GET /v1/fees)",
    ),
]


def parse_amount(text: str) -> int:
    """Wei from `123` (wei), `1.5eth`, `20gwei`, `0.1 ether`."""
    value = text.strip().lower().replace(" ", "")
    unit = next((u for u in sorted(UNITS, key=len, reverse=True) if value.endswith(u)), "wei")
    number = value[: len(value) - len(unit)] if value.endswith(unit) else value
    try:
        wei = Decimal(number) * UNITS[unit]
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not an amount (e.g. 1000, 1.5eth, 20gwei)") from None
    if wei != wei.to_integral_value() or wei < 0:
        raise typer.BadParameter(f"{text!r} is not a whole, non-negative number of wei")
    return int(wei)


def show_amount(wei: int) -> str:
    eth = Decimal(wei) / UNITS["eth"]
    return f"{wei} wei ({eth.normalize():f} ETH)" if wei else "0"


@contextmanager
def _errors() -> Iterator[None]:
    """A `ClientError` (or a bad key) ends the command with status 1 and the reason on stderr."""
    from client.errors import ClientError

    try:
        yield
    except ClientError as exc:
        err.print(f"[bold red]error[/] [red]{exc.code}[/]: {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    except ValueError as exc:  # a malformed key or address
        err.print(f"[bold red]error[/]: {exc}", highlight=False)
        raise typer.Exit(1) from None


def _client(url: str, key: str | None, timeout: float = 30.0, max_fee_price: str | None = None) -> Client:
    from client.sdk import Client

    price = None if max_fee_price is None else parse_amount(max_fee_price)
    return Client(url, key, timeout=timeout, max_fee_price=price)


def _l1(client: Client, l1_url: str, key: str | None) -> L1Account:
    from client.errors import ClientError
    from client.l1 import L1Account

    if key is None:
        raise ClientError("no_key", "pass --key (or MLROLLUP_KEY): it signs the L1 transaction")
    return L1Account(l1_url, key, client.domain())


def _json(value: BaseModel | dict[str, Any]) -> None:
    data = value if isinstance(value, dict) else value.model_dump(mode="json")
    typer.echo(json.dumps(data, indent=2, default=_default))


def _default(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    raise TypeError(f"{type(value).__name__} is not JSON")


def _pairs(title: str, rows: list[tuple[str, Any]]) -> None:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")  # hashes and addresses are folded, never cut
    for name, value in rows:
        table.add_row(name, "-" if value is None else str(value))
    out.print(table)


def _send_and_report(
    client: Client, accepted: Any, wait: bool, as_json: bool, timeout: float, what: str
) -> None:
    receipt = None if not wait else client.wait_for_receipt(accepted.hash, timeout=timeout)
    if as_json:
        _json({"tx": accepted, "receipt": receipt})
        return
    rows: list[tuple[str, Any]] = [("hash", accepted.hash), ("nonce", accepted.nonce)]
    if receipt is not None:
        rows += [("status", receipt.reason), ("fee", show_amount(receipt.fee))]
        rows += [("block", receipt.block), ("batch", receipt.batch)]
        if receipt.created_id is not None:
            rows.append((f"{what} id", receipt.created_id))
    else:
        rows.append(("status", "pending"))
    _pairs(f"{accepted.type} sent", rows)


@app.command(rich_help_panel=PANEL)
def account(
    address: Annotated[str | None, typer.Argument(help="an L2 address (default: the key's)")] = None,
    url: Url = DEFAULT_URL,
    key: Key = None,
    as_json: AsJson = False,
) -> None:
    """An account's balance and nonce on L2 (after the last block, and after every accepted tx)."""
    with _errors(), _client(url, key) as client:
        got = client.account(address)
        if as_json:
            _json(got)
            return
        _pairs(
            f"account {got.address}",
            [
                ("balance", show_amount(got.balance)),
                ("nonce", got.nonce),
                ("pending balance", show_amount(got.pending_balance)),
                ("pending nonce", got.pending_nonce),
                ("block", got.block),
            ],
        )


@app.command(rich_help_panel=PANEL)
def fees(url: Url = DEFAULT_URL, as_json: AsJson = False) -> None:
    """The deployment's L2 fee schedule: the price a fee unit costs, its recipient, and the units."""
    with _errors(), _client(url, None) as client:
        got = client.fee_schedule()
        if as_json:
            _json(got)
            return
        _pairs(
            "fees: units x price, paid by every tx that succeeds",
            [
                ("price", f"{show_amount(got.price)} a unit"),
                ("recipient", got.recipient),
                ("units a byte", got.units_per_byte),
                ("units a step", got.units_per_step),
                ("units a job MAC", got.units_per_mac),
            ],
        )


@app.command(rich_help_panel=PANEL)
def deposit(
    amount: Annotated[str, typer.Argument(help="wei, or with a unit: 1.5eth, 20gwei")],
    to: Annotated[str | None, typer.Option(help="the L2 recipient (default: the key's address)")] = None,
    url: Url = DEFAULT_URL,
    key: Key = None,
    l1_url: L1Url = DEFAULT_L1_URL,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="return once L1 mined the deposit")] = False,
    timeout: Timeout = 120.0,
    as_json: AsJson = False,
) -> None:
    """Deposit ETH on L1 (the Bridge) and wait until L2 credits it."""
    wei = parse_amount(amount)
    with _errors(), _client(url, key) as client:
        l1 = _l1(client, l1_url, key)
        recipient = to or l1.address
        before = client.balance(recipient)
        receipt = l1.deposit(wei, recipient)
        credited = None if no_wait else client.wait_for_balance(before + wei, recipient, timeout=timeout)
        if as_json:
            _json({"l1": receipt, "account": credited})
            return
        rows: list[tuple[str, Any]] = [("amount", show_amount(wei)), ("to", recipient)]
        rows += [("L1 tx", receipt.tx_hash), ("L1 block", receipt.block), ("gas", receipt.gas_used)]
        if credited is not None:
            rows.append(("L2 balance", show_amount(credited.balance)))
        _pairs("deposit", rows)


@app.command(rich_help_panel=PANEL)
def transfer(
    to: Annotated[str, typer.Argument(help="the L2 recipient")],
    amount: Annotated[str, typer.Argument(help="wei, or with a unit: 1.5eth, 20gwei")],
    url: Url = DEFAULT_URL,
    key: Key = None,
    max_fee_price: MaxFeePrice = None,
    no_wait: NoWait = False,
    timeout: Timeout = 120.0,
    as_json: AsJson = False,
) -> None:
    """Pay ETH to another L2 account (plus the tx's fee); waits for the receipt unless --no-wait."""
    wei = parse_amount(amount)
    with _errors(), _client(url, key, max_fee_price=max_fee_price) as client:
        accepted = client.transfer(to, wei)
        _send_and_report(client, accepted, not no_wait, as_json, timeout, "transfer")


@app.command(rich_help_panel=PANEL)
def withdraw(
    amount: Annotated[str, typer.Argument(help="wei, or with a unit: 1.5eth, 20gwei")],
    to: Annotated[str | None, typer.Option(help="the L1 recipient (default: the key's address)")] = None,
    url: Url = DEFAULT_URL,
    key: Key = None,
    max_fee_price: MaxFeePrice = None,
    no_wait: NoWait = False,
    timeout: Timeout = 120.0,
    as_json: AsJson = False,
) -> None:
    """Withdraw ETH from L2 to L1 (the fee is paid on L2); prints the withdrawal id to `claim` once
    its batch is final."""
    wei = parse_amount(amount)
    with _errors(), _client(url, key, max_fee_price=max_fee_price) as client:
        accepted = client.withdraw(wei, to)
        _send_and_report(client, accepted, not no_wait, as_json, timeout, "withdrawal")


@app.command(rich_help_panel=PANEL)
def claim(
    withdrawal_id: Annotated[int, typer.Argument(help="the id `withdraw` printed")],
    url: Url = DEFAULT_URL,
    key: Key = None,
    l1_url: L1Url = DEFAULT_L1_URL,
    timeout: Timeout = 300.0,
    as_json: AsJson = False,
) -> None:
    """Claim a withdrawal on L1 once a final batch holds it (waits for that).

    The proof goes to the Bridge from the key's L1 account, which pays the gas; the withdrawal's
    recipient gets the ETH."""
    with _errors(), _client(url, key) as client:
        l1 = _l1(client, l1_url, key)
        proof = client.wait_for_withdrawal_proof(withdrawal_id, timeout=timeout)
        receipt = l1.claim(proof)
        if as_json:
            _json({"proof": proof, "l1": receipt})
            return
        _pairs(
            f"withdrawal {withdrawal_id} claimed",
            [
                ("recipient", proof.recipient),
                ("amount", show_amount(proof.amount)),
                ("batch", proof.batch),
                ("L1 tx", receipt.tx_hash),
                ("gas", receipt.gas_used),
            ],
        )


@app.command(rich_help_panel=PANEL)
def tx(
    tx_hash: Annotated[str, typer.Argument(help="the tx hash (0x…)")],
    wait: Annotated[float, typer.Option(help="seconds to wait for the receipt (at most 30)")] = 0.0,
    url: Url = DEFAULT_URL,
    key: Key = None,
    as_json: AsJson = False,
) -> None:
    """A tx and, once executed, its receipt."""
    with _errors(), _client(url, key) as client:
        got = client.tx(tx_hash, wait=wait)
        if as_json:
            _json(got)
            return
        rows: list[tuple[str, Any]] = [
            ("type", got.type),
            ("status", got.status),
            ("sender", got.sender),
            ("nonce", got.nonce),
        ]
        r = got.receipt
        if r is not None:
            rows += [("reason", r.reason), ("detail", r.detail or None), ("created id", r.created_id)]
            rows += [("block", r.block), ("batch", r.batch), ("steps", f"{r.first_step}-{r.last_step}")]
        _pairs(f"tx {got.hash}", rows)


@app.command(rich_help_panel=PANEL)
def task(
    task_id: Annotated[int, typer.Argument(help="the task id")],
    url: Url = DEFAULT_URL,
    key: Key = None,
    as_json: AsJson = False,
) -> None:
    """A training competition: its phase, reward, deadlines and leaderboard."""
    with _errors(), _client(url, key) as client:
        got = client.task(task_id)
        if as_json:
            _json(got)
            return
        dims = f"{got.arch} {got.inputs}" + (f"×{got.hidden}×{got.outputs}" if got.arch == "MLP" else "")
        _pairs(
            f"task {got.id}",
            [
                ("phase", got.phase),
                ("model", dims),
                ("reward", show_amount(got.reward)),
                ("submitter", got.submitter),
                ("commit deadline", got.commit_deadline),
                ("reveal deadline", got.reveal_deadline),
                ("now", got.now),
                ("test samples", got.n_test if got.test_revealed else "hidden"),
                ("commitments", got.commit_count),
                ("best", None if got.best is None else f"{got.best.miner} ({got.best.score})"),
            ],
        )
        board = Table(title="leaderboard", title_justify="left")
        for column in ("rank", "miner", "score", "status", "seq"):
            board.add_column(column, overflow="fold")
        for s in got.leaderboard:
            board.add_row(
                "-" if s.rank is None else str(s.rank),
                s.miner,
                "-" if s.score is None else str(s.score),
                s.status,
                str(s.seq),
            )
        out.print(board)


@app.command(rich_help_panel=PANEL)
def model(
    model_id: Annotated[int, typer.Argument(help="the shared model id")],
    points: Annotated[bool, typer.Option(help="also print its data points")] = False,
    url: Url = DEFAULT_URL,
    key: Key = None,
    as_json: AsJson = False,
) -> None:
    """A shared model: its weights (bias first, scaled by 10^7), data size and epochs trained."""
    with _errors(), _client(url, key) as client:
        got = client.model(model_id, points=points)
        if as_json:
            _json(got)
            return
        rows: list[tuple[str, Any]] = [
            ("owner", got.owner),
            ("weights", " ".join(str(w) for w in got.weights)),
            ("as reals", " ".join(f"{Decimal(w) / got.scale:f}" for w in got.weights)),
            ("learning rate", f"{got.learning_rate} (÷10^7)"),
            ("points", got.n_points),
            ("epochs", got.epochs_trained),
        ]
        if got.points is not None:
            rows.append(("data", "; ".join(" ".join(map(str, p)) for p in got.points)))
        _pairs(f"model {got.id}", rows)


@app.command(rich_help_panel=PANEL)
def batches(
    after: Annotated[int, typer.Option(help="list batches after this id (-1: from the first)")] = -1,
    limit: Annotated[int, typer.Option(help="at most this many (1-100)")] = 20,
    status: Annotated[
        list[str] | None,
        typer.Option(help="only these statuses: open, sealed, posted, challenged, final, rolled_back"),
    ] = None,
    url: Url = DEFAULT_URL,
    key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Batches in id order: status, txs, steps, and the L1 transaction that posted each."""
    with _errors(), _client(url, key) as client:
        page = client.batches(after, limit, status or ())
        if as_json:
            _json(page)
            return
        table = Table(title="batches", title_justify="left")
        for column in ("id", "status", "txs", "deposits", "steps", "L1 tx", "gas"):
            table.add_column(column, overflow="fold")
        for b in page.batches:
            table.add_row(
                str(b.id),
                b.status,
                str(b.tx_count),
                str(b.deposit_count),
                str(b.step_count),
                "-" if b.l1 is None else b.l1.tx_hash,
                "-" if b.l1 is None else str(b.l1.gas_used),
            )
        out.print(table)
        if page.next_after is not None:
            out.print(f"more: --after {page.next_after}")
