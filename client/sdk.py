"""`Client` (blocking) and `AsyncClient` (asyncio): the same methods over the sequencer's REST API.

    with Client("http://127.0.0.1:8000", key="0x…") as c:
        sent = c.transfer("0xRecipient…", 10**18)
        receipt = c.wait_for_receipt(sent.hash)

Both run the operations of `client.ops`, so they share every rule: the signing domain read from
`GET /v1/info`, nonces tracked locally (resynced from the server after a nonce error), 503s retried
after `Retry-After` at most `RetryPolicy.max_retries` times, an explicit timeout on every request
(`timeout`, plus the server-side wait of a long poll) and on every wait. Errors are `ClientError`s.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Self

import httpx

from client import models, ops
from client import txs as build
from client.ops import RetryPolicy, Session
from client.transport import run_async, run_sync
from client.txs import MakeTx, TensorLike
from client.wallet import Wallet
from protocol.models import ModelSpec
from protocol.signing import Domain

DEFAULT_TIMEOUT_S = 30.0


class _Base:
    def __init__(
        self,
        url: str,
        key: str | bytes | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        poll_s: float = 0.5,
        max_fee_price: int | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = Session(None if key is None else Wallet.from_key(key), retry or RetryPolicy(), poll_s)
        # what txs sign as max_fee_price; None: the deployment's fee price (GET /v1/fees)
        self.session.max_fee_price = max_fee_price

    @property
    def wallet(self) -> Wallet:
        """This client's key and address (`ClientError` `no_key` without a key)."""
        return self.session.need_wallet()

    @property
    def address(self) -> str:
        """This client's EIP-55 address."""
        return self.wallet.checksum


class Client(_Base):
    """A blocking client of one sequencer, signing with `key` (optional for reads)."""

    def __init__(
        self,
        url: str,
        key: str | bytes | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        poll_s: float = 0.5,
        http: httpx.Client | None = None,
        max_fee_price: int | None = None,
    ) -> None:
        super().__init__(url, key, timeout=timeout, retry=retry, poll_s=poll_s, max_fee_price=max_fee_price)
        self.http = http or httpx.Client(base_url=self.url, timeout=timeout)

    def _run(self, op: ops.Op[ops.T]) -> ops.T:
        return run_sync(op, self.http, self.timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # reads
    def info(self) -> models.Info:
        """The signing domain, public settings and limits (`GET /v1/info`)."""
        return self._run(ops.info(self.session))

    def domain(self) -> Domain:
        """The EIP-712 domain txs are signed for (read once from `/v1/info`)."""
        return self._run(ops.domain(self.session))

    def fee_schedule(self) -> models.Fees:
        """The deployment's fee price, recipient and units (read once from `/v1/fees`)."""
        return self._run(ops.fee_schedule(self.session))

    def estimate_fee(self, make: MakeTx) -> models.FeeEstimate:
        """The fee `make` (a builder of `client.txs`) would pay if sent now, in units and wei."""
        return self._run(ops.estimate_fee(self.session, make))

    def account(self, address: str | bytes | None = None) -> models.Account:
        """An account's balances and nonces (this client's by default)."""
        return self._run(ops.account(self.session, address))

    def balance(self, address: str | bytes | None = None) -> int:
        """The balance in wei after the last block."""
        return self.account(address).balance

    def nonce(self, address: str | bytes | None = None) -> int:
        """The nonce the next tx is signed with (after every accepted tx)."""
        return self.account(address).pending_nonce

    def tx(self, tx_hash: str, wait: float = 0.0) -> models.TxInfo:
        """A tx and its receipt once executed (`wait`: seconds the server may wait, at most 30)."""
        return self._run(ops.tx(self.session, tx_hash, wait))

    def task(self, task_id: int) -> models.Task:
        """A task with its phase and leaderboard."""
        return self._run(ops.task(self.session, task_id))

    def model(self, model_id: int, points: bool = False) -> models.SharedModel:
        """A shared model's weights (and its data points with `points`)."""
        return self._run(ops.model(self.session, model_id, points))

    def batch(self, batch_id: int, data: bool = False) -> models.Batch:
        """A batch with its status, roots and L1 transaction."""
        return self._run(ops.batch(self.session, batch_id, data))

    def batches(self, after: int = -1, limit: int = 20, status: Sequence[str] = ()) -> models.BatchPage:
        """A page of batches in id order after `after`, optionally only in some statuses."""
        return self._run(ops.batches(self.session, after, limit, status))

    def block(self, number: int, wait: float = 0.0) -> models.Block:
        """L2 block `number` (from 1); `wait`: seconds the server may wait for it (at most 30)."""
        return self._run(ops.block(self.session, number, wait))

    def latest_block(self) -> models.Block:
        """The last L2 block (`NotFound` before the first)."""
        return self._run(ops.latest_block(self.session))

    def steps(self, batch_id: int, offset: int = 0, limit: int = 10_000) -> models.Steps:
        """A page of a batch's trace (what a verifier compares)."""
        return self._run(ops.steps(self.session, batch_id, offset, limit))

    def state_proof(self, key: str | bytes, batch: int | None = None) -> models.StateProof:
        """The Merkle proof of a state key (protocol.keys) now, or against a sealed batch."""
        return self._run(ops.state_proof(self.session, key, batch))

    def roots(self) -> models.Roots:
        """The current, last sealed and finalized state roots."""
        return self._run(ops.roots(self.session))

    def withdrawal_proof(self, withdrawal_id: int, batch: int | None = None) -> models.WithdrawalProof:
        """A withdrawal's proof against the last final batch (`NotFinalized` before there is one)."""
        return self._run(ops.withdrawal_proof(self.session, withdrawal_id, batch))

    # txs
    def submit(self, make: MakeTx) -> models.TxAccepted:
        """Sign `make(nonce, max_fee_price)` with the next nonce and the signing price (the deployment's,
        or `max_fee_price` given to the client) and submit it (`TxRejected` if refused)."""
        return self._run(ops.submit(self.session, make))

    def submit_many(self, makes: Sequence[MakeTx]) -> list[models.TxAccepted]:
        """Sign each with consecutive nonces and submit them all or none (`TxRejected` names the
        first refusal; `details["items"]` lists each refused tx by index)."""
        return self._run(ops.submit_many(self.session, makes))

    def transfer(self, to: str | bytes, amount: int) -> models.TxAccepted:
        """Pay `amount` wei to `to` on L2."""
        return self.submit(build.transfer(to, amount))

    def withdraw(self, amount: int, recipient: str | bytes | None = None) -> models.TxAccepted:
        """Withdraw `amount` wei to `recipient` on L1 (this client's address by default)."""
        return self.submit(build.withdraw(recipient or self.wallet.address, amount))

    def create_task(
        self,
        spec: ModelSpec,
        reward: int,
        commit_deadline: int,
        reveal_deadline: int,
        test_commitment: str | bytes,
        train_data_ref: str | bytes = b"\x00" * 32,
    ) -> models.TxAccepted:
        """Open a competition with its hidden test set's commitment, funded with `reward` wei."""
        return self.submit(
            build.create_task(spec, reward, commit_deadline, reveal_deadline, test_commitment, train_data_ref)
        )

    def commit_model(self, task_id: int, commitment: str | bytes) -> models.TxAccepted:
        """Commit to weights (`client.miner.commitment`) before the commit deadline."""
        return self.submit(build.commit_model(task_id, commitment))

    def reveal_test_set(
        self, task_id: int, salt: str | bytes, features: TensorLike, labels: TensorLike
    ) -> list[models.TxAccepted]:
        """Reveal the task's test set (the submitter, between the deadlines), in as many RevealTestSet
        txs as it takes, submitted together in order; the test set counts as revealed once the last
        one is executed."""
        spec = build.spec_of(self.task(task_id))
        return self.submit_many(build.reveal_test_set(spec, task_id, salt, features, labels))

    def reveal_model(self, task_id: int, salt: str | bytes, weights: TensorLike) -> models.TxAccepted:
        """Reveal committed weights; the rollup scores them on the test set."""
        return self.submit(build.reveal_model(task_id, salt, weights))

    def finalize_task(self, task_id: int) -> models.TxAccepted:
        """Pay the reward to the best miner (anyone, after the reveal deadline)."""
        return self.submit(build.finalize_task(task_id))

    def create_model(self, n_features: int, learning_rate: int, weights: TensorLike) -> models.TxAccepted:
        """Create a shared linear model (weights bias first, scaled by 10^7)."""
        return self.submit(build.create_model(n_features, learning_rate, weights))

    def add_data(self, model_id: int, xs: TensorLike, ys: TensorLike) -> models.TxAccepted:
        """Add data points to a shared model."""
        return self.submit(build.add_data(model_id, xs, ys))

    def train(self, model_id: int, epochs: int) -> models.TxAccepted:
        """Train a shared model `epochs` epochs over its data."""
        return self.submit(build.train(model_id, epochs))

    # waits
    def wait_for_receipt(self, tx_hash: str, timeout: float = 120.0, check: bool = True) -> models.Receipt:
        """The receipt once the tx is executed; `TxFailed` if it failed (unless `check=False`)."""
        return self._run(ops.wait_for_receipt(self.session, tx_hash, timeout, check))

    def wait_for_batch(self, tx_hash: str, timeout: float = 300.0) -> models.Batch:
        """The tx's batch once it is posted on L1."""
        return self._run(ops.wait_for_batch(self.session, tx_hash, final=False, timeout=timeout))

    def wait_for_final(self, tx_hash: str, timeout: float = 300.0) -> models.Batch:
        """The tx's batch once it is final on L1 (past its challenge window)."""
        return self._run(ops.wait_for_batch(self.session, tx_hash, final=True, timeout=timeout))

    def wait_for_withdrawal_proof(self, withdrawal_id: int, timeout: float = 300.0) -> models.WithdrawalProof:
        """The withdrawal's proof once a final batch holds it: what `claim` takes."""
        return self._run(ops.wait_for_withdrawal_proof(self.session, withdrawal_id, timeout))

    def wait_for_balance(
        self, at_least: int, address: str | bytes | None = None, timeout: float = 120.0
    ) -> models.Account:
        """The account once its balance is at least `at_least` (a deposit credited)."""
        return self._run(ops.wait_for_balance(self.session, at_least, address, timeout))


class AsyncClient(_Base):
    """The asyncio twin of `Client`: the same methods, awaited. Await each `submit` of one client
    before the next: concurrent submissions reach the server in any order, and a nonce gap is
    refused (use one client per concurrent sender)."""

    def __init__(
        self,
        url: str,
        key: str | bytes | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        poll_s: float = 0.5,
        http: httpx.AsyncClient | None = None,
        max_fee_price: int | None = None,
    ) -> None:
        super().__init__(url, key, timeout=timeout, retry=retry, poll_s=poll_s, max_fee_price=max_fee_price)
        self.http = http or httpx.AsyncClient(base_url=self.url, timeout=timeout)

    async def _run(self, op: ops.Op[ops.T]) -> ops.T:
        return await run_async(op, self.http, self.timeout)

    async def close(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # reads
    async def info(self) -> models.Info:
        """The signing domain, public settings and limits (`GET /v1/info`)."""
        return await self._run(ops.info(self.session))

    async def domain(self) -> Domain:
        """The EIP-712 domain txs are signed for (read once from `/v1/info`)."""
        return await self._run(ops.domain(self.session))

    async def fee_schedule(self) -> models.Fees:
        """The deployment's fee price, recipient and units (read once from `/v1/fees`)."""
        return await self._run(ops.fee_schedule(self.session))

    async def estimate_fee(self, make: MakeTx) -> models.FeeEstimate:
        """The fee `make` (a builder of `client.txs`) would pay if sent now, in units and wei."""
        return await self._run(ops.estimate_fee(self.session, make))

    async def account(self, address: str | bytes | None = None) -> models.Account:
        """An account's balances and nonces (this client's by default)."""
        return await self._run(ops.account(self.session, address))

    async def balance(self, address: str | bytes | None = None) -> int:
        """The balance in wei after the last block."""
        return (await self.account(address)).balance

    async def nonce(self, address: str | bytes | None = None) -> int:
        """The nonce the next tx is signed with (after every accepted tx)."""
        return (await self.account(address)).pending_nonce

    async def tx(self, tx_hash: str, wait: float = 0.0) -> models.TxInfo:
        """A tx and its receipt once executed (`wait`: seconds the server may wait, at most 30)."""
        return await self._run(ops.tx(self.session, tx_hash, wait))

    async def task(self, task_id: int) -> models.Task:
        """A task with its phase and leaderboard."""
        return await self._run(ops.task(self.session, task_id))

    async def model(self, model_id: int, points: bool = False) -> models.SharedModel:
        """A shared model's weights (and its data points with `points`)."""
        return await self._run(ops.model(self.session, model_id, points))

    async def batch(self, batch_id: int, data: bool = False) -> models.Batch:
        """A batch with its status, roots and L1 transaction."""
        return await self._run(ops.batch(self.session, batch_id, data))

    async def batches(self, after: int = -1, limit: int = 20, status: Sequence[str] = ()) -> models.BatchPage:
        """A page of batches in id order after `after`, optionally only in some statuses."""
        return await self._run(ops.batches(self.session, after, limit, status))

    async def block(self, number: int, wait: float = 0.0) -> models.Block:
        """L2 block `number` (from 1); `wait`: seconds the server may wait for it (at most 30)."""
        return await self._run(ops.block(self.session, number, wait))

    async def latest_block(self) -> models.Block:
        """The last L2 block (`NotFound` before the first)."""
        return await self._run(ops.latest_block(self.session))

    async def steps(self, batch_id: int, offset: int = 0, limit: int = 10_000) -> models.Steps:
        """A page of a batch's trace (what a verifier compares)."""
        return await self._run(ops.steps(self.session, batch_id, offset, limit))

    async def state_proof(self, key: str | bytes, batch: int | None = None) -> models.StateProof:
        """The Merkle proof of a state key (protocol.keys) now, or against a sealed batch."""
        return await self._run(ops.state_proof(self.session, key, batch))

    async def roots(self) -> models.Roots:
        """The current, last sealed and finalized state roots."""
        return await self._run(ops.roots(self.session))

    async def withdrawal_proof(self, withdrawal_id: int, batch: int | None = None) -> models.WithdrawalProof:
        """A withdrawal's proof against the last final batch (`NotFinalized` before there is one)."""
        return await self._run(ops.withdrawal_proof(self.session, withdrawal_id, batch))

    # txs
    async def submit(self, make: MakeTx) -> models.TxAccepted:
        """Sign `make(nonce, max_fee_price)` with the next nonce and the signing price (the deployment's,
        or `max_fee_price` given to the client) and submit it (`TxRejected` if refused)."""
        return await self._run(ops.submit(self.session, make))

    async def submit_many(self, makes: Sequence[MakeTx]) -> list[models.TxAccepted]:
        """Sign each with consecutive nonces and submit them all or none (`TxRejected` names the
        first refusal; `details["items"]` lists each refused tx by index)."""
        return await self._run(ops.submit_many(self.session, makes))

    async def transfer(self, to: str | bytes, amount: int) -> models.TxAccepted:
        """Pay `amount` wei to `to` on L2."""
        return await self.submit(build.transfer(to, amount))

    async def withdraw(self, amount: int, recipient: str | bytes | None = None) -> models.TxAccepted:
        """Withdraw `amount` wei to `recipient` on L1 (this client's address by default)."""
        return await self.submit(build.withdraw(recipient or self.wallet.address, amount))

    async def create_task(
        self,
        spec: ModelSpec,
        reward: int,
        commit_deadline: int,
        reveal_deadline: int,
        test_commitment: str | bytes,
        train_data_ref: str | bytes = b"\x00" * 32,
    ) -> models.TxAccepted:
        """Open a competition with its hidden test set's commitment, funded with `reward` wei."""
        return await self.submit(
            build.create_task(spec, reward, commit_deadline, reveal_deadline, test_commitment, train_data_ref)
        )

    async def commit_model(self, task_id: int, commitment: str | bytes) -> models.TxAccepted:
        """Commit to weights (`client.miner.commitment`) before the commit deadline."""
        return await self.submit(build.commit_model(task_id, commitment))

    async def reveal_test_set(
        self, task_id: int, salt: str | bytes, features: TensorLike, labels: TensorLike
    ) -> list[models.TxAccepted]:
        """Reveal the task's test set (the submitter, between the deadlines), in as many RevealTestSet
        txs as it takes, submitted together in order; the test set counts as revealed once the last
        one is executed."""
        spec = build.spec_of(await self.task(task_id))
        return await self.submit_many(build.reveal_test_set(spec, task_id, salt, features, labels))

    async def reveal_model(self, task_id: int, salt: str | bytes, weights: TensorLike) -> models.TxAccepted:
        """Reveal committed weights; the rollup scores them on the test set."""
        return await self.submit(build.reveal_model(task_id, salt, weights))

    async def finalize_task(self, task_id: int) -> models.TxAccepted:
        """Pay the reward to the best miner (anyone, after the reveal deadline)."""
        return await self.submit(build.finalize_task(task_id))

    async def create_model(
        self, n_features: int, learning_rate: int, weights: TensorLike
    ) -> models.TxAccepted:
        """Create a shared linear model (weights bias first, scaled by 10^7)."""
        return await self.submit(build.create_model(n_features, learning_rate, weights))

    async def add_data(self, model_id: int, xs: TensorLike, ys: TensorLike) -> models.TxAccepted:
        """Add data points to a shared model."""
        return await self.submit(build.add_data(model_id, xs, ys))

    async def train(self, model_id: int, epochs: int) -> models.TxAccepted:
        """Train a shared model `epochs` epochs over its data."""
        return await self.submit(build.train(model_id, epochs))

    # waits
    async def wait_for_receipt(
        self, tx_hash: str, timeout: float = 120.0, check: bool = True
    ) -> models.Receipt:
        """The receipt once the tx is executed; `TxFailed` if it failed (unless `check=False`)."""
        return await self._run(ops.wait_for_receipt(self.session, tx_hash, timeout, check))

    async def wait_for_batch(self, tx_hash: str, timeout: float = 300.0) -> models.Batch:
        """The tx's batch once it is posted on L1."""
        return await self._run(ops.wait_for_batch(self.session, tx_hash, final=False, timeout=timeout))

    async def wait_for_final(self, tx_hash: str, timeout: float = 300.0) -> models.Batch:
        """The tx's batch once it is final on L1 (past its challenge window)."""
        return await self._run(ops.wait_for_batch(self.session, tx_hash, final=True, timeout=timeout))

    async def wait_for_withdrawal_proof(
        self, withdrawal_id: int, timeout: float = 300.0
    ) -> models.WithdrawalProof:
        """The withdrawal's proof once a final batch holds it: what `claim` takes."""
        return await self._run(ops.wait_for_withdrawal_proof(self.session, withdrawal_id, timeout))

    async def wait_for_balance(
        self, at_least: int, address: str | bytes | None = None, timeout: float = 120.0
    ) -> models.Account:
        """The account once its balance is at least `at_least` (a deposit credited)."""
        return await self._run(ops.wait_for_balance(self.session, at_least, address, timeout))
