"""The transaction types of docs/spec.md section 3, as frozen dataclasses.

Field names are the spec's, in snake_case and in the spec's order. Addresses (`to`, `recipient`) are
20 raw bytes, hashes and salts (`test_commitment`, `train_data_ref`, `commitment`, `salt`) 32 raw
bytes, tensors `IntTensor`s; `protocol.signing` converts addresses from and to checksum strings.
The dataclasses do not validate ranges: `protocol.codec` does, on encoding and on decoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar

from protocol.hashing import keccak
from protocol.tensors import IntTensor


class TxType(IntEnum):
    TRANSFER = 1
    WITHDRAW = 2
    CREATE_TASK = 3
    COMMIT_MODEL = 4
    REVEAL_TEST_SET = 5
    REVEAL_MODEL = 6
    FINALIZE_TASK = 7
    CREATE_MODEL = 8
    ADD_DATA = 9
    TRAIN = 10


@dataclass(frozen=True, slots=True)
class Transfer:
    TYPE: ClassVar[TxType] = TxType.TRANSFER
    nonce: int
    to: bytes
    amount: int
    max_fee_price: int  # wei per fee unit the sender accepts at most (docs/spec.md section 6)


@dataclass(frozen=True, slots=True)
class Withdraw:
    TYPE: ClassVar[TxType] = TxType.WITHDRAW
    nonce: int
    recipient: bytes  # on L1
    amount: int
    max_fee_price: int  # wei per fee unit the sender accepts at most (docs/spec.md section 6)


@dataclass(frozen=True, slots=True)
class CreateTask:
    TYPE: ClassVar[TxType] = TxType.CREATE_TASK
    nonce: int
    arch: int
    inputs: int
    hidden: int
    outputs: int
    reward: int
    commit_deadline: int
    reveal_deadline: int
    test_commitment: bytes
    train_data_ref: bytes
    max_fee_price: int  # wei per fee unit the sender accepts at most (docs/spec.md section 6)


@dataclass(frozen=True, slots=True)
class CommitModel:
    TYPE: ClassVar[TxType] = TxType.COMMIT_MODEL
    nonce: int
    task_id: int
    commitment: bytes
    max_fee_price: int  # wei per fee unit the sender accepts at most (docs/spec.md section 6)


@dataclass(frozen=True, slots=True)
class RevealTestSet:
    TYPE: ClassVar[TxType] = TxType.REVEAL_TEST_SET
    nonce: int
    task_id: int
    salt: bytes
    n_test: int  # samples in the whole test set
    test_root: bytes  # its chunk root, committed with n_test and the salt at CreateTask
    first_chunk: int  # the first chunk this tx reveals
    features: IntTensor  # rank 2: (m, inputs), the samples of chunks first_chunk, first_chunk + 1, ...
    labels: IntTensor  # rank 1: (m,)
    proof: tuple[bytes, ...]  # merkle_range_proof of those chunks against test_root
    max_fee_price: int  # wei per fee unit the sender accepts at most (docs/spec.md section 6)


@dataclass(frozen=True, slots=True)
class RevealModel:
    TYPE: ClassVar[TxType] = TxType.REVEAL_MODEL
    nonce: int
    task_id: int
    salt: bytes
    weights: IntTensor  # rank 1, the flat layout of docs/spec.md section 7
    max_fee_price: int  # wei per fee unit the sender accepts at most (docs/spec.md section 6)


@dataclass(frozen=True, slots=True)
class FinalizeTask:
    TYPE: ClassVar[TxType] = TxType.FINALIZE_TASK
    nonce: int
    task_id: int
    max_fee_price: int  # wei per fee unit the sender accepts at most (docs/spec.md section 6)


@dataclass(frozen=True, slots=True)
class CreateModel:
    TYPE: ClassVar[TxType] = TxType.CREATE_MODEL
    nonce: int
    n_features: int
    learning_rate: int
    weights: IntTensor  # rank 1: n_features + 1, bias first
    max_fee_price: int  # wei per fee unit the sender accepts at most (docs/spec.md section 6)


@dataclass(frozen=True, slots=True)
class AddData:
    TYPE: ClassVar[TxType] = TxType.ADD_DATA
    nonce: int
    model_id: int
    xs: IntTensor  # rank 2: (n, n_features)
    ys: IntTensor  # rank 1: (n,)
    max_fee_price: int  # wei per fee unit the sender accepts at most (docs/spec.md section 6)


@dataclass(frozen=True, slots=True)
class Train:
    TYPE: ClassVar[TxType] = TxType.TRAIN
    nonce: int
    model_id: int
    epochs: int
    max_fee_price: int  # wei per fee unit the sender accepts at most (docs/spec.md section 6)


Tx = (
    Transfer
    | Withdraw
    | CreateTask
    | CommitModel
    | RevealTestSet
    | RevealModel
    | FinalizeTask
    | CreateModel
    | AddData
    | Train
)

TX_CLASSES: dict[TxType, type[Tx]] = {
    cls.TYPE: cls
    for cls in (
        Transfer,
        Withdraw,
        CreateTask,
        CommitModel,
        RevealTestSet,
        RevealModel,
        FinalizeTask,
        CreateModel,
        AddData,
        Train,
    )
}


@dataclass(frozen=True, slots=True)
class SignedTx:
    """A tx with its signature. `encoded` (the canonical bytes) and `hash` (the tx id) are cached.

    `protocol.codec.decode_tx` and `protocol.signing.sign_tx` fill `encoded` in; otherwise it is computed
    on first use with `protocol.codec.encode_tx`. Equality and hashing look at `(tx, r, s, v)` only.
    """

    tx: Tx
    r: int
    s: int
    v: int
    _encoded: bytes | None = field(default=None, init=False, repr=False, compare=False)
    _hash: bytes | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def type(self) -> TxType:
        return self.tx.TYPE

    @property
    def encoded(self) -> bytes:
        encoded = self._encoded
        if encoded is None:
            from protocol.codec import encode_tx

            encoded = encode_tx(self)
            object.__setattr__(self, "_encoded", encoded)
        return encoded

    @property
    def hash(self) -> bytes:
        """The tx id: `H(encoded signed tx)`."""
        tx_hash = self._hash
        if tx_hash is None:
            tx_hash = keccak(self.encoded)
            object.__setattr__(self, "_hash", tx_hash)
        return tx_hash

    @classmethod
    def with_encoding(cls, tx: Tx, r: int, s: int, v: int, encoded: bytes) -> SignedTx:
        """A `SignedTx` whose `encoded` is already known (the caller vouches that it is `encode_tx`'s)."""
        signed = cls(tx, r, s, v)
        object.__setattr__(signed, "_encoded", encoded)
        return signed
