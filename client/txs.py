"""The ten tx types as functions of the nonce and the max fee price, for `Client.submit`: the SDK
fills both in (the price from the deployment's fee schedule, `GET /v1/fees`, unless overridden).

Addresses are 20 bytes or hex; hashes and salts 32 bytes or 0x hex; tensors `IntTensor`s or (nested)
lists of ints; amounts in wei.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

from client import models
from protocol.models import Arch, ModelSpec, validate_spec
from protocol.signing import address_from_hex
from protocol.tensors import IntTensor, as_tensor
from protocol.testset import reveal_txs
from protocol.txs import (
    AddData,
    CommitModel,
    CreateModel,
    CreateTask,
    FinalizeTask,
    RevealModel,
    RevealTestSet,
    Train,
    Transfer,
    Tx,
    Withdraw,
)

MakeTx = Callable[[int, int], Tx]  # (nonce, max_fee_price) -> tx
TensorLike = IntTensor | Sequence[int] | Sequence[Sequence[int]]


def spec_of(task: models.Task) -> ModelSpec:
    """The architecture of a task read from the API."""
    return validate_spec(Arch[task.arch], task.inputs, task.hidden, task.outputs)


def address_bytes(address: str | bytes) -> bytes:
    """20 bytes from an address given as bytes or (EIP-55 or lower-case) hex."""
    if isinstance(address, bytes):
        if len(address) != 20:
            raise ValueError(f"an address is 20 bytes, got {len(address)}")
        return address
    return address_from_hex(address)


def bytes32(value: str | bytes, name: str) -> bytes:
    """32 bytes from bytes or 0x hex."""
    raw = value if isinstance(value, bytes) else bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"{name} is 32 bytes, got {len(raw)}")
    return raw


def transfer(to: str | bytes, amount: int) -> MakeTx:
    recipient = address_bytes(to)
    return lambda n, p: Transfer(n, recipient, amount, p)


def withdraw(recipient: str | bytes, amount: int) -> MakeTx:
    l1_recipient = address_bytes(recipient)
    return lambda n, p: Withdraw(n, l1_recipient, amount, p)


def create_task(
    spec: ModelSpec,
    reward: int,
    commit_deadline: int,
    reveal_deadline: int,
    test_commitment: str | bytes,
    train_data_ref: str | bytes = b"\x00" * 32,
) -> MakeTx:
    commitment, ref = bytes32(test_commitment, "test_commitment"), bytes32(train_data_ref, "train_data_ref")
    return lambda n, p: CreateTask(
        n,
        int(spec.arch),
        spec.inputs,
        spec.hidden,
        spec.outputs,
        reward,
        commit_deadline,
        reveal_deadline,
        commitment,
        ref,
        p,
    )


def commit_model(task_id: int, commitment: str | bytes) -> MakeTx:
    value = bytes32(commitment, "commitment")
    return lambda n, p: CommitModel(n, task_id, value, p)


def reveal_test_set(
    spec: ModelSpec, task_id: int, salt: str | bytes, features: TensorLike, labels: TensorLike
) -> list[MakeTx]:
    """The RevealTestSet txs that reveal a whole test set, in the order they must run: runs of whole
    chunks, each proven against the committed chunk root (`protocol.testset.reveal_txs`)."""
    s, x, y = bytes32(salt, "salt"), as_tensor(features), as_tensor(labels)
    # built with a placeholder price: `_renonce` signs each with the nonce and price the SDK gives it
    return [partial(_renonce, tx) for tx in reveal_txs(spec, task_id, s, x, y, max_fee_price=0)]


def _renonce(tx: RevealTestSet, nonce: int, max_fee_price: int) -> RevealTestSet:
    return replace(tx, nonce=nonce, max_fee_price=max_fee_price)


def reveal_model(task_id: int, salt: str | bytes, weights: TensorLike) -> MakeTx:
    s, w = bytes32(salt, "salt"), as_tensor(weights)
    return lambda n, p: RevealModel(n, task_id, s, w, p)


def finalize_task(task_id: int) -> MakeTx:
    return lambda n, p: FinalizeTask(n, task_id, p)


def create_model(n_features: int, learning_rate: int, weights: TensorLike) -> MakeTx:
    w = as_tensor(weights)
    return lambda n, p: CreateModel(n, n_features, learning_rate, w, p)


def add_data(model_id: int, xs: TensorLike, ys: TensorLike) -> MakeTx:
    x, y = as_tensor(xs), as_tensor(ys)
    return lambda n, p: AddData(n, model_id, x, y, p)


def train(model_id: int, epochs: int) -> MakeTx:
    return lambda n, p: Train(n, model_id, epochs, p)
