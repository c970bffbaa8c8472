"""The SDK's operations, written once for the sync and the async client (sans-IO).

Each operation is a generator that yields what it needs done — an HTTP `Call` or a `Sleep` — and is
sent back the `Answer`; `client.transport` runs it over httpx, blocking or awaiting. So `Client` and
`AsyncClient` share every rule: the 503 retries after `Retry-After`, the nonce tracking, the waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from client import models
from client.errors import (
    ClientError,
    NonceError,
    NotFinalized,
    ProtocolMismatch,
    TxFailed,
    Unavailable,
    WaitTimeout,
    error_from_response,
)
from client.nonces import NonceTracker
from client.wallet import Wallet
from protocol.params import EIP712_NAME, EIP712_VERSION
from protocol.signing import Domain, to_checksum_address
from protocol.txs import Tx

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

MAX_SERVER_WAIT_S = 30.0  # the API's cap on `?wait=` (GET /v1/txs/{hash}, /v1/blocks/{n})
LONG_POLL_S = 10.0  # one `?wait=` request: short enough to notice a deadline, long enough to be cheap


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request. `timeout` is added to the client's own (for server-side waits)."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    extra_timeout: float = 0.0
    submission: bool = False


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]  # lower-case names


Op = Generator[Call | Sleep, Answer | None, T]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How 503 answers (catching up with L1, storage unavailable, not ready) are retried: at most
    `max_retries` times, each after the server's `Retry-After` (or `default_delay_s`) capped at
    `max_delay_s`. Other errors are never retried, except one resync after a nonce error."""

    max_retries: int = 30
    default_delay_s: float = 1.0
    max_delay_s: float = 30.0


@dataclass
class Session:
    """What one client knows between calls: its wallet, the rollup's signing domain, its nonces."""

    wallet: Wallet | None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll_s: float = 0.5
    domain: Domain | None = None
    nonces: NonceTracker = field(default_factory=NonceTracker)
    max_fee_price: int | None = None  # what txs sign as max_fee_price; None: the deployment's price
    fees: models.Fees | None = None  # the fee schedule, read once from GET /v1/fees

    def need_wallet(self) -> Wallet:
        if self.wallet is None:
            raise ClientError("no_key", "this client has no private key: pass one to sign txs")
        return self.wallet


def address_text(address: str | bytes) -> str:
    """The EIP-55 form of an address given as 20 bytes or hex."""
    if isinstance(address, bytes):
        return to_checksum_address(address)
    return address


def hx(data: bytes) -> str:
    return "0x" + data.hex()


# --- requests ---------------------------------------------------------------------------------


def request(session: Session, call: Call) -> Op[Any]:
    """Send `call` and return the JSON body of a 2xx answer; a 503 is retried as `session.retry`
    says; any other error answer is raised as its typed `ApiError`."""
    policy = session.retry
    attempt = 0
    while True:
        answer = yield call
        assert answer is not None
        if 200 <= answer.status < 300:
            return answer.body
        error = error_from_response(answer.status, answer.body, answer.headers, submission=call.submission)
        if not isinstance(error, Unavailable) or attempt >= policy.max_retries:
            raise error
        attempt += 1
        delay = error.retry_after if error.retry_after is not None else policy.default_delay_s
        yield Sleep(min(delay, policy.max_delay_s))


def get(session: Session, model: type[M], path: str, **params: Any) -> Op[M]:
    """GET `path` parsed as `model`."""
    body = yield from request(session, Call("GET", path, {k: v for k, v in params.items() if v is not None}))
    return parse(model, body)


def parse(model: type[M], body: Any) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ClientError("bad_response", f"the answer is not a {model.__name__}: {exc}") from None


# --- reads ------------------------------------------------------------------------------------


def info(session: Session) -> Op[models.Info]:
    """`GET /v1/info`, and the signing domain it names (checked to be this SDK's protocol)."""
    got = yield from get(session, models.Info, "/v1/info")
    if (got.name, got.version) != (EIP712_NAME, EIP712_VERSION):
        raise ProtocolMismatch(
            f"the server signs for {got.name} v{got.version}; this SDK for {EIP712_NAME} v{EIP712_VERSION}"
        )
    try:
        session.domain = Domain.from_hex(int(got.domain["chainId"]), str(got.domain["verifyingContract"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise ClientError("bad_response", f"/v1/info has no usable domain: {exc}") from None
    return got


def domain(session: Session) -> Op[Domain]:
    """The signing domain, read once from `/v1/info`."""
    if session.domain is None:
        yield from info(session)
    assert session.domain is not None
    return session.domain


def fee_schedule(session: Session) -> Op[models.Fees]:
    """The deployment's fee schedule (`GET /v1/fees`), read once."""
    if session.fees is None:
        session.fees = yield from get(session, models.Fees, "/v1/fees")
    return session.fees


def signing_price(session: Session) -> Op[int]:
    """The `max_fee_price` txs are signed with: the override, else the deployment's fee price."""
    if session.max_fee_price is not None:
        return session.max_fee_price
    return (yield from fee_schedule(session)).price


def estimate_fee(session: Session, make: Callable[[int, int], Tx]) -> Op[models.FeeEstimate]:
    """What `make` would pay if sent now (`POST /v1/fees/estimate` on the pending state): it is
    signed with the signing price and nonce 0 (a nonce's width is fixed, so the fee is the same), and
    not sent."""
    wallet = session.need_wallet()
    signing_domain = yield from domain(session)
    price = yield from signing_price(session)
    raw = wallet.sign(signing_domain, make(0, price)).encoded
    body = yield from request(session, Call("POST", "/v1/fees/estimate", json={"raw": hx(raw)}))
    return parse(models.FeeEstimate, body)


def account(session: Session, address: str | bytes | None = None) -> Op[models.Account]:
    """An account (this client's by default)."""
    who = address_text(address if address is not None else session.need_wallet().address)
    return (yield from get(session, models.Account, f"/v1/accounts/{who}"))


def tx(session: Session, tx_hash: str, wait: float = 0.0) -> Op[models.TxInfo]:
    """A tx and its receipt; with `wait`, the server waits up to that many seconds (at most 30)."""
    wait = min(max(wait, 0.0), MAX_SERVER_WAIT_S)
    params = {"wait": wait} if wait > 0 else None
    body = yield from request(session, Call("GET", f"/v1/txs/{tx_hash}", params, extra_timeout=wait))
    return parse(models.TxInfo, body)


def task(session: Session, task_id: int) -> Op[models.Task]:
    return (yield from get(session, models.Task, f"/v1/tasks/{task_id}"))


def model(session: Session, model_id: int, points: bool = False) -> Op[models.SharedModel]:
    return (yield from get(session, models.SharedModel, f"/v1/models/{model_id}", points=points or None))


def batch(session: Session, batch_id: int, data: bool = False) -> Op[models.Batch]:
    return (yield from get(session, models.Batch, f"/v1/batches/{batch_id}", data=data or None))


def batches(
    session: Session, after: int = -1, limit: int = 20, status: Sequence[str] = ()
) -> Op[models.BatchPage]:
    params: dict[str, Any] = {"after": after, "limit": limit}
    if status:
        params["status"] = list(status)
    body = yield from request(session, Call("GET", "/v1/batches", params))
    return parse(models.BatchPage, body)


def block(session: Session, number: int, wait: float = 0.0) -> Op[models.Block]:
    """L2 block `number` (from 1); with `wait`, the server waits that long for it to be built."""
    wait = min(max(wait, 0.0), MAX_SERVER_WAIT_S)
    params = {"wait": wait} if wait > 0 else None
    body = yield from request(session, Call("GET", f"/v1/blocks/{number}", params, extra_timeout=wait))
    return parse(models.Block, body)


def latest_block(session: Session) -> Op[models.Block]:
    return (yield from get(session, models.Block, "/v1/blocks/latest"))


def steps(session: Session, batch_id: int, offset: int = 0, limit: int = 10_000) -> Op[models.Steps]:
    """A page of a batch's trace: every step's state root, cursor, job hash and leaf hash."""
    path = f"/v1/batches/{batch_id}/steps"
    return (yield from get(session, models.Steps, path, offset=offset, limit=limit))


def state_proof(session: Session, key: str | bytes, batch_id: int | None = None) -> Op[models.StateProof]:
    """The sparse Merkle proof of a state key, against the current state or a sealed batch's."""
    text = hx(key) if isinstance(key, bytes) else key
    return (yield from get(session, models.StateProof, f"/v1/state/proof/{text}", batch=batch_id))


def roots(session: Session) -> Op[models.Roots]:
    return (yield from get(session, models.Roots, "/v1/state/root"))


def withdrawal_proof(
    session: Session, withdrawal_id: int, batch_id: int | None = None
) -> Op[models.WithdrawalProof]:
    """The proof to claim withdrawal `withdrawal_id` (`NotFinalized` until a final batch holds it)."""
    path = f"/v1/withdrawals/{withdrawal_id}/proof"
    return (yield from get(session, models.WithdrawalProof, path, batch=batch_id))


# --- txs --------------------------------------------------------------------------------------


def submit(session: Session, make: Callable[[int, int], Tx]) -> Op[models.TxAccepted]:
    """Sign `make(nonce, max_fee_price)` with the next nonce and the signing price and submit it
    (`POST /v1/txs`)."""
    answer = yield from _sign_and_post(session, [make], listed=False)
    return parse(models.TxAccepted, answer)


def submit_many(session: Session, makes: Sequence[Callable[[int, int], Tx]]) -> Op[list[models.TxAccepted]]:
    """Sign each of `makes` with consecutive nonces and submit them all or none (`POST /v1/txs/batch`)."""
    if not makes:
        raise ClientError("invalid_request", "submit_many needs at least one tx")
    answer = yield from _sign_and_post(session, makes, listed=True)
    return parse(models.TxListAccepted, answer).txs


def _sign_and_post(session: Session, makes: Sequence[Callable[[int, int], Tx]], *, listed: bool) -> Op[Any]:
    """Sign with the next nonces and post. The nonces are tracked locally; after a nonce error the
    server's pending nonce is adopted and the txs signed and sent once more; after any other
    refusal the local view is dropped (the nonces taken were not used)."""
    wallet = session.need_wallet()
    signing_domain = yield from domain(session)
    price = yield from signing_price(session)
    for attempt in range(2):
        if not session.nonces.known:
            current = yield from account(session, wallet.address)
            session.nonces.sync(current.pending_nonce)
        items = [
            {
                "raw": hx(wallet.sign(signing_domain, make(session.nonces.take(), price)).encoded),
                "from": wallet.checksum,
            }
            for make in makes
        ]
        call = Call("POST", "/v1/txs/batch", json={"txs": items}, submission=True)
        if not listed:
            call = Call("POST", "/v1/txs", json=items[0], submission=True)
        try:
            return (yield from request(session, call))
        except NonceError:
            session.nonces.forget()
            if attempt == 1:
                raise
        except ClientError:
            session.nonces.forget()
            raise
    raise AssertionError("unreachable")


# --- waits ------------------------------------------------------------------------------------


def _deadline(timeout: float) -> float:
    return time.monotonic() + timeout


def _left(deadline: float) -> float:
    return deadline - time.monotonic()


def wait_for_receipt(
    session: Session, tx_hash: str, timeout: float = 120.0, check: bool = True
) -> Op[models.Receipt]:
    """The tx's receipt once executed (long-polling `?wait=`); `TxFailed` if it failed and `check`."""
    deadline = _deadline(timeout)
    while True:
        got = yield from tx(session, tx_hash, wait=min(LONG_POLL_S, max(_left(deadline), 0.0)))
        if got.receipt is not None:
            if check and not got.receipt.success:
                raise TxFailed(tx_hash, got.receipt.reason, got.receipt.detail)
            return got.receipt
        if _left(deadline) <= 0:
            raise WaitTimeout(f"no receipt for {tx_hash} after {timeout:.0f} s")


def wait_for_batch(
    session: Session, tx_hash: str, *, final: bool = False, timeout: float = 300.0
) -> Op[models.Batch]:
    """The batch holding the tx once it is posted on L1 (or, with `final`, final). The tx's batch is
    read again each round: a rollback after a fraud proof executes it again in a later batch."""
    deadline = _deadline(timeout)
    want = "final" if final else "posted"
    while True:
        receipt = yield from wait_for_receipt(
            session, tx_hash, timeout=max(_left(deadline), 1.0), check=False
        )
        got = yield from batch(session, receipt.batch)
        if got.status == "final" or (not final and got.posted):
            return got
        if _left(deadline) <= 0:
            raise WaitTimeout(
                f"batch {got.id} of tx {tx_hash} is {got.status}, not {want}, after {timeout:.0f} s"
            )
        yield Sleep(session.poll_s)


def wait_for_withdrawal_proof(
    session: Session, withdrawal_id: int, timeout: float = 300.0
) -> Op[models.WithdrawalProof]:
    """The withdrawal's proof against a final batch, once there is one (polls past `NotFinalized`)."""
    deadline = _deadline(timeout)
    while True:
        try:
            return (yield from withdrawal_proof(session, withdrawal_id))
        except NotFinalized:
            if _left(deadline) <= 0:
                raise WaitTimeout(f"withdrawal {withdrawal_id} is not final after {timeout:.0f} s") from None
        yield Sleep(session.poll_s)


def wait_for_balance(
    session: Session, at_least: int, address: str | bytes | None = None, timeout: float = 120.0
) -> Op[models.Account]:
    """The account once its balance (after the last block) is at least `at_least`: a deposit credited."""
    deadline = _deadline(timeout)
    while True:
        got = yield from account(session, address)
        if got.balance >= at_least:
            return got
        if _left(deadline) <= 0:
            raise WaitTimeout(f"balance of {got.address} is {got.balance} < {at_least} after {timeout:.0f} s")
        yield Sleep(session.poll_s)
