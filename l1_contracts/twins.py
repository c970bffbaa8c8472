"""Thin typed bindings for the pure on-chain twins: `OnChainRegression` and `OnChainCompetition`.

The twins run the L2's workloads entirely on L1 with the same integer arithmetic, for the gas
comparison. Every transaction is sent with an explicit gas limit (estimation would re-run the
heavy ones) and returns a `TxResult` with its gas used; a reverted one raises `TwinTxFailed`
naming the contract's custom error. Views decode into frozen dataclasses.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from eth_abi.abi import decode as abi_decode
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import TxParams, TxReceipt, Wei

from l1_contracts.artifacts import Artifact, load_artifact
from l1_contracts.errors import L1Error
from protocol.hashing import keccak
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


def _error_table(abi: Sequence[Mapping[str, Any]]) -> dict[bytes, tuple[str, list[str]]]:
    table: dict[bytes, tuple[str, list[str]]] = {}
    for entry in abi:
        if entry.get("type") == "error":
            types = [str(i["type"]) for i in entry["inputs"]]
            table[keccak(f"{entry['name']}({','.join(types)})".encode())[:4]] = (entry["name"], types)
    return table


def decode_custom_error(abi: Sequence[Mapping[str, Any]], data: bytes) -> tuple[str, tuple[Any, ...]] | None:
    """`(name, args)` of revert data that encodes one of the ABI's custom errors, else None."""
    entry = _error_table(abi).get(bytes(data[:4]))
    if entry is None:
        return None
    name, types = entry
    args = abi_decode(types, bytes(data[4:]))
    return name, tuple(
        Web3.to_checksum_address(v) if t == "address" else v for t, v in zip(types, args, strict=True)
    )


def revert_data(exc: BaseException) -> bytes | None:
    """The revert data carried by a failed call: web3's `data` (JSON-RPC providers) or the bytes in
    eth-tester's `TransactionFailed("execution reverted: b'...'")`."""
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    message = str(exc.args[0]) if exc.args else ""
    prefix = "execution reverted: "
    if message.startswith(prefix):
        try:
            value = ast.literal_eval(message[len(prefix) :])
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, bytes) else None
    return None


# --- the shared plumbing ------------------------------------------------------------------------------


class _Twin:
    """A deployed twin: its web3, contract and artifact."""

    artifact_name = ""

    def __init__(self, w3: Web3, address: ChecksumAddress) -> None:
        self.w3 = w3
        self.artifact: Artifact = load_artifact(self.artifact_name)
        self.contract: Contract = w3.eth.contract(address=address, abi=self.artifact.abi)

    @property
    def address(self) -> ChecksumAddress:
        return self.contract.address

    @classmethod
    def _deploy_contract(
        cls, w3: Web3, args: Sequence[Any], sender: ChecksumAddress | None, gas: int
    ) -> tuple[ChecksumAddress, TxResult]:
        artifact = load_artifact(cls.artifact_name)
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        constructor = factory.constructor(*args)
        params: TxParams = {"from": sender or w3.eth.accounts[0], "gas": gas}
        receipt = w3.eth.wait_for_transaction_receipt(constructor.transact(params))
        if receipt["status"] == 1 and receipt["contractAddress"] is not None:
            return receipt["contractAddress"], _result(receipt)
        replay: TxParams = {**params, "data": constructor.data_in_transaction}
        _raise_decoded(artifact, receipt, lambda: w3.eth.call(replay, block_identifier="pending"))

    def _send(
        self, fn: ContractFunction, sender: ChecksumAddress | None, gas: int, value: int = 0
    ) -> TxResult:
        params: TxParams = {"from": sender or self.w3.eth.accounts[0], "gas": gas, "value": Wei(value)}
        tx_hash = fn.transact(params)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] == 1:
            return _result(receipt)
        if receipt["gasUsed"] >= gas:
            raise TwinTxFailed("OutOfGas", (gas,), receipt)
        # Replay as a call on the state the failed tx left unchanged, to decode the custom error (a
        # deadline check can differ by the one second between the blocks).
        _raise_decoded(self.artifact, receipt, lambda: fn.call(params, block_identifier="pending"))


def _raise_decoded(artifact: Artifact, receipt: TxReceipt | None, replay: Callable[[], object]) -> NoReturn:
    """Raise `TwinTxFailed` with the custom error that `replay` (the failed tx as a call) reverts with."""
    try:
        replay()
    except Exception as exc:  # web3's or eth-tester's exception, depending on the provider
        data = revert_data(exc)
        decoded = decode_custom_error(artifact.abi, data) if data else None
        if decoded is not None:
            raise TwinTxFailed(decoded[0], decoded[1], receipt) from exc
        if receipt is None:
            raise
    raise TwinTxFailed(None, (), receipt)


def _result(receipt: TxReceipt) -> TxResult:
    return TxResult(bytes(receipt["transactionHash"]), receipt["gasUsed"], receipt["blockNumber"], receipt)


# --- OnChainRegression ----------------------------------------------------------------------------------


class RegressionTwin(_Twin):
    """The paper's linear regression trained on L1 (`OnChainRegression`): weights scaled by 10^7."""

    artifact_name = "OnChainRegression"

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
        return self._send(self.contract.functions.addData(x, y), sender, gas)

    def train(self, *, sender: ChecksumAddress | None = None, gas: int | None = None) -> TxResult:
        """One epoch of per-sample SGD over the stored points; default gas from the point count."""
        if gas is None:
            gas = 100_000 + 6_000 * self.point_count()
        return self._send(self.contract.functions.train(), sender, gas)

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

    artifact_name = "OnChainCompetition"

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
        fn = self.contract.functions.createTask(
            arch, inputs, hidden, outputs, commit_deadline, reveal_deadline, test_commitment, train_data_ref
        )
        result = self._send(fn, sender, gas, value=reward)
        (event,) = self.contract.events.TaskCreated().process_receipt(result.receipt, errors=DISCARD)
        return int(event["args"]["taskId"]), result

    def commit(
        self, task_id: int, commitment: bytes, *, sender: ChecksumAddress | None = None, gas: int = 200_000
    ) -> TxResult:
        """Commit to `H(u64 taskId ‖ miner ‖ weightsHash ‖ salt)` (protocol.txrules.model_commitment)."""
        return self._send(self.contract.functions.commit(task_id, commitment), sender, gas)

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
        fn = self.contract.functions.revealTestSet(task_id, salt, flat, list(labels))
        return self._send(fn, sender, gas)

    def reveal_test_set_packed(
        self, task_id: int, salt: bytes, rows: bytes, *, sender: ChecksumAddress | None = None, gas: int
    ) -> TxResult:
        """`revealTestSetPacked` with raw packed rows (`protocol.records.encode_rows` of the samples)."""
        return self._send(self.contract.functions.revealTestSetPacked(task_id, salt, rows), sender, gas)

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
        return self._send(self.contract.functions.revealModel(task_id, salt, list(weights)), sender, gas)

    def reveal_model_packed(
        self, task_id: int, salt: bytes, weights: bytes, *, sender: ChecksumAddress | None = None, gas: int
    ) -> TxResult:
        """`revealModelPacked` with raw packed weights (`protocol.tensors.canonical_i32`)."""
        return self._send(self.contract.functions.revealModelPacked(task_id, salt, weights), sender, gas)

    def finalize(
        self, task_id: int, *, sender: ChecksumAddress | None = None, gas: int = 200_000
    ) -> TxResult:
        """Pay the best miner, or refund the submitter, at or after the reveal deadline."""
        return self._send(self.contract.functions.finalize(task_id), sender, gas)

    def withdraw_credit(self, *, sender: ChecksumAddress | None = None, gas: int = 100_000) -> TxResult:
        """Take a reward whose transfer was refused at finalize."""
        return self._send(self.contract.functions.withdrawCredit(), sender, gas)

    def task(self, task_id: int) -> TaskInfo:
        """The task; `TwinTxFailed('UnknownTask')` when there is none."""
        raw: tuple[Any, ...] = ()

        def read() -> None:
            nonlocal raw
            raw = tuple(self.contract.functions.getTask(task_id).call())

        try:
            read()
        except Exception:
            _raise_decoded(self.artifact, None, read)
        return TaskInfo(*raw)

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
