"""Thin typed bindings for the pure on-chain twins: `OnChainRegression` and `OnChainCompetition`.

The twins run the L2's workloads entirely on L1 with the same integer arithmetic, for the gas
comparison. Every transaction is sent with an explicit gas limit and no preflight (estimation or a
preflight call would re-run the heavy ones) and returns a `TxResult` with its gas used; a reverted one
raises `TwinTxFailed` naming the contract's custom error. Sending, replaying a failed transaction and
decoding its revert are `l1_contracts.bindings`' (`transact`, `ErrorDecoder`, `revert_data`); only
the replay's block (the pending one: a deadline check can differ by the second between two blocks)
and the `TwinTxFailed` shape are the twins' own. Views decode into frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.logs import DISCARD
from web3.types import TxReceipt

from l1_contracts.artifacts import Artifact, load_artifact
from l1_contracts.bindings.tx import BoundContract, ErrorDecoder, UnlockedSender, call_view, transact
from l1_contracts.bindings.tx import revert_data as revert_data
from l1_contracts.errors import (
    ContractRevert,
    L1Error,
    RevertWithPanic,
    RevertWithReason,
    TransactionReverted,
)
from protocol.records import encode_rows
from protocol.tensors import IntTensor, canonical_i32

DEPLOY_GAS = 3_000_000


class TwinTxFailed(L1Error):
    """A twin transaction reverted. `error` is the custom error's name (None when the revert could
    not be reproduced to decode it), `args` its decoded arguments, `receipt` the failed receipt."""

    def __init__(self, error: str | None, args: tuple[Any, ...], receipt: TxReceipt | None) -> None:
        super().__init__(f"reverted with {error or 'an undecoded error'}{args if args else ''}")
        self.error = error
        self.error_args = args
        self.receipt = receipt


@dataclass(frozen=True, slots=True)
class TxResult:
    """A mined, successful transaction."""

    tx_hash: bytes
    gas_used: int
    block_number: int
    receipt: TxReceipt


# --- custom errors ----------------------------------------------------------------------------------


def _custom_error(revert: ContractRevert) -> tuple[str, tuple[Any, ...]] | None:
    """`(name, args)` of a revert decoded as one of the ABI's custom errors, else None."""
    if not revert.error_name or isinstance(revert, RevertWithReason | RevertWithPanic | TransactionReverted):
        return None
    return revert.error_name, tuple(revert.error_args.values())


def decode_custom_error(abi: Sequence[Mapping[str, Any]], data: bytes) -> tuple[str, tuple[Any, ...]] | None:
    """`(name, args)` of revert data that encodes one of the ABI's custom errors, else None."""
    return _custom_error(ErrorDecoder([abi]).decode(bytes(data)))


def _failed(revert: ContractRevert, receipt: TxReceipt | None) -> TwinTxFailed:
    decoded = _custom_error(revert)
    return TwinTxFailed(*decoded, receipt) if decoded is not None else TwinTxFailed(None, (), receipt)


# --- the shared plumbing ------------------------------------------------------------------------------


class _Twin(BoundContract):
    """A deployed twin: its web3, contract and artifact."""

    def __init__(self, w3: Web3, address: ChecksumAddress) -> None:
        super().__init__(w3, address, preflight=False)
        self.artifact: Artifact = load_artifact(self.ARTIFACT)
        self.decoder = ErrorDecoder([self.artifact.abi])

    @classmethod
    def _deploy_contract(
        cls, w3: Web3, args: Sequence[Any], sender: ChecksumAddress | None, gas: int
    ) -> tuple[ChecksumAddress, TxResult]:
        artifact = load_artifact(cls.ARTIFACT)
        init = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode).constructor(*args)
        data = bytes(HexBytes(init.data_in_transaction))
        result = _transact(w3, ErrorDecoder([artifact.abi]), None, data, sender, gas, 0, out_of_gas=False)
        address = result.receipt["contractAddress"]
        if address is None:
            raise TwinTxFailed(None, (), result.receipt)
        return address, result

    def _run(
        self, name: str, args: Sequence[Any], sender: ChecksumAddress | None, gas: int, value: int = 0
    ) -> TxResult:
        data = bytes(HexBytes(self.contract.encode_abi(name, args=list(args))))
        return _transact(self.w3, self.decoder, self.address, data, sender, gas, value, out_of_gas=True)

    def _view(self, name: str, *args: Any) -> Any:
        """A view's result; `TwinTxFailed` when it reverts with one of the twin's custom errors."""
        try:
            return call_view(self.contract.functions[name](*args), self.decoder)
        except ContractRevert as exc:
            if _custom_error(exc) is None:
                raise
            raise _failed(exc, None) from exc


def _transact(
    w3: Web3,
    decoder: ErrorDecoder,
    to: str | None,
    data: bytes,
    sender: ChecksumAddress | None,
    gas: int,
    value: int,
    *,
    out_of_gas: bool,
) -> TxResult:
    """`bindings.transact` without preflight, a failed transaction replayed on the pending state (which
    it left unchanged); its revert raised as `TwinTxFailed`, with `out_of_gas` as `OutOfGas` when it
    used all its gas."""
    try:
        receipt = transact(
            w3,
            UnlockedSender(sender or w3.eth.accounts[0]),
            to=to,
            data=data,
            gas=gas,
            value=value,
            preflight=False,
            decoder=decoder,
            replay_block="pending",
        )
    except ContractRevert as exc:
        failed = w3.eth.get_transaction_receipt(HexBytes(exc.tx_hash)) if exc.tx_hash is not None else None
        if out_of_gas and failed is not None and failed["gasUsed"] >= gas:
            raise TwinTxFailed("OutOfGas", (gas,), failed) from exc
        raise _failed(exc, failed) from exc
    return _result(receipt)


def _result(receipt: TxReceipt) -> TxResult:
    return TxResult(bytes(receipt["transactionHash"]), receipt["gasUsed"], receipt["blockNumber"], receipt)


# --- OnChainRegression ----------------------------------------------------------------------------------


class RegressionTwin(_Twin):
    """The paper's linear regression trained on L1 (`OnChainRegression`): weights scaled by 10^7."""

    ARTIFACT = "OnChainRegression"

    @classmethod
    def deploy(
        cls,
        w3: Web3,
        w0: int,
        w1: int,
        learning_rate: int,
        *,
        sender: ChecksumAddress | None = None,
        gas: int = DEPLOY_GAS,
    ) -> tuple[RegressionTwin, TxResult]:
        """Deploy with initial weights (bias first, |w| <= 2^36) and learning rate (<= 2^16)."""
        address, result = cls._deploy_contract(w3, (w0, w1, learning_rate), sender, gas)
        return cls(w3, address), result

    def add_data(
        self, x: int, y: int, *, sender: ChecksumAddress | None = None, gas: int = 150_000
    ) -> TxResult:
        """Store one point (|x|, |y| <= 2^20)."""
        return self._run("addData", (x, y), sender, gas)

    def train(self, *, sender: ChecksumAddress | None = None, gas: int | None = None) -> TxResult:
        """One epoch of per-sample SGD over the stored points; default gas from the point count."""
        if gas is None:
            gas = 100_000 + 6_000 * self.point_count()
        return self._run("train", (), sender, gas)

    def weights(self) -> tuple[int, int]:
        """(w0, w1), bias first, scaled by 10^7."""
        w0, w1 = self.contract.functions.weights().call()
        return int(w0), int(w1)

    def point_count(self) -> int:
        return int(self.contract.functions.pointCount().call())

    def epochs_trained(self) -> int:
        return int(self.contract.functions.epochsTrained().call())

    def learning_rate(self) -> int:
        return int(self.contract.functions.learningRate().call())


# --- OnChainCompetition ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """A task of `OnChainCompetition` (the fields of the L2's task leaf)."""

    submitter: ChecksumAddress
    arch: int
    inputs: int
    hidden: int
    outputs: int
    flags: int  # bit 0 test set revealed, bit 1 has a best, bit 2 finalized
    commit_count: int
    reward: int
    commit_deadline: int
    reveal_deadline: int
    test_commitment: bytes
    train_data_ref: bytes
    test_root: bytes
    n_test: int
    best_score: int
    best_miner: ChecksumAddress
    best_seq: int

    @property
    def test_revealed(self) -> bool:
        return bool(self.flags & 1)

    @property
    def has_best(self) -> bool:
        return bool(self.flags & 2)

    @property
    def finalized(self) -> bool:
        return bool(self.flags & 4)


@dataclass(frozen=True, slots=True)
class CommitmentInfo:
    """A miner's commitment on a task: status 0 none, 1 committed, 2 scored."""

    commitment: bytes
    seq: int
    status: int
    score: int
    weights_hash: bytes


class CompetitionTwin(_Twin):
    """The competition lifecycle entirely on L1 (`OnChainCompetition`), scoring in Solidity."""

    ARTIFACT = "OnChainCompetition"

    @classmethod
    def deploy(
        cls, w3: Web3, *, sender: ChecksumAddress | None = None, gas: int = DEPLOY_GAS
    ) -> tuple[CompetitionTwin, TxResult]:
        address, result = cls._deploy_contract(w3, (), sender, gas)
        return cls(w3, address), result

    def create_task(
        self,
        arch: int,
        inputs: int,
        hidden: int,
        outputs: int,
        commit_deadline: int,
        reveal_deadline: int,
        test_commitment: bytes,
        train_data_ref: bytes,
        *,
        reward: int,
        sender: ChecksumAddress | None = None,
        gas: int = 300_000,
    ) -> tuple[int, TxResult]:
        """Create a task escrowing `reward` wei; returns its id (from the TaskCreated event)."""
        args = (
            arch,
            inputs,
            hidden,
            outputs,
            commit_deadline,
            reveal_deadline,
            test_commitment,
            train_data_ref,
        )
        result = self._run("createTask", args, sender, gas, value=reward)
        (event,) = self.contract.events.TaskCreated().process_receipt(result.receipt, errors=DISCARD)
        return int(event["args"]["taskId"]), result

    def commit(
        self, task_id: int, commitment: bytes, *, sender: ChecksumAddress | None = None, gas: int = 200_000
    ) -> TxResult:
        """Commit to `H(u64 taskId ‖ miner ‖ weightsHash ‖ salt)` (protocol.txrules.model_commitment)."""
        return self._run("commit", (task_id, commitment), sender, gas)

    def reveal_test_set(
        self,
        task_id: int,
        salt: bytes,
        features: IntTensor | Sequence[Sequence[int]],
        labels: Sequence[int],
        *,
        packed: bool = False,
        sender: ChecksumAddress | None = None,
        gas: int | None = None,
    ) -> TxResult:
        """Reveal the test set (features n×inputs, labels n): as ABI `int32[]` arrays, or with
        `packed` as the protocol's packed i32 rows (`revealTestSetPacked`, 4 bytes a value).
        Default gas from its size (storage dominates)."""
        tensor = features if isinstance(features, IntTensor) else IntTensor.matrix(features)
        flat = list(tensor.values)
        values = len(flat) + len(labels)
        if gas is None:
            gas = 400_000 + 25_000 * (4 * values // 32 + 1) + 1_500 * values
        if packed:
            rows = encode_rows([(*row, y) for row, y in zip(tensor.rows(), labels, strict=True)])
            return self.reveal_test_set_packed(task_id, salt, rows, sender=sender, gas=gas)
        return self._run("revealTestSet", (task_id, salt, flat, list(labels)), sender, gas)

    def reveal_test_set_packed(
        self, task_id: int, salt: bytes, rows: bytes, *, sender: ChecksumAddress | None = None, gas: int
    ) -> TxResult:
        """`revealTestSetPacked` with raw packed rows (`protocol.records.encode_rows` of the samples)."""
        return self._run("revealTestSetPacked", (task_id, salt, rows), sender, gas)

    def reveal_model(
        self,
        task_id: int,
        salt: bytes,
        weights: Sequence[int],
        *,
        packed: bool = False,
        sender: ChecksumAddress | None = None,
        gas: int | None = None,
    ) -> TxResult:
        """Reveal the weights (as ABI `int32[]`, or with `packed` as the packed i32 preimage of the
        weights hash), which the contract scores on the stored test set. Default gas from the
        task's size (about 75 gas a multiply-accumulate measured, with a margin)."""
        if gas is None:
            task = self.task(task_id)
            macs = task.inputs if task.arch != 3 else task.inputs * task.hidden + task.hidden * task.outputs
            gas = 1_000_000 + 3 * task.n_test * (60 * macs + 4_000) + 1_500 * len(weights)
        if packed:
            return self.reveal_model_packed(task_id, salt, canonical_i32(weights), sender=sender, gas=gas)
        return self._run("revealModel", (task_id, salt, list(weights)), sender, gas)

    def reveal_model_packed(
        self, task_id: int, salt: bytes, weights: bytes, *, sender: ChecksumAddress | None = None, gas: int
    ) -> TxResult:
        """`revealModelPacked` with raw packed weights (`protocol.tensors.canonical_i32`)."""
        return self._run("revealModelPacked", (task_id, salt, weights), sender, gas)

    def finalize(
        self, task_id: int, *, sender: ChecksumAddress | None = None, gas: int = 200_000
    ) -> TxResult:
        """Pay the best miner, or refund the submitter, at or after the reveal deadline."""
        return self._run("finalize", (task_id,), sender, gas)

    def withdraw_credit(self, *, sender: ChecksumAddress | None = None, gas: int = 100_000) -> TxResult:
        """Take a reward whose transfer was refused at finalize."""
        return self._run("withdrawCredit", (), sender, gas)

    def task(self, task_id: int) -> TaskInfo:
        """The task; `TwinTxFailed('UnknownTask')` when there is none."""
        return TaskInfo(*self._view("getTask", task_id))

    def commitment(self, task_id: int, miner: ChecksumAddress) -> CommitmentInfo:
        return CommitmentInfo(*self.contract.functions.getCommitment(task_id, miner).call())

    def score_of(self, task_id: int, miner: ChecksumAddress) -> int | None:
        """The miner's score, or None when it was not scored."""
        scored, score = self.contract.functions.scoreOf(task_id, miner).call()
        return int(score) if scored else None

    def test_rows(self, task_id: int) -> bytes:
        """The stored test set as packed rows (`i32 × inputs ‖ i32 label` per sample)."""
        return bytes(self.contract.functions.testRows(task_id).call())

    def next_task_id(self) -> int:
        return int(self.contract.functions.nextTaskId().call())

    def credits(self, account: ChecksumAddress) -> int:
        return int(self.contract.functions.credits(account).call())
