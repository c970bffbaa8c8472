"""State leaf values and their byte layouts (docs/spec.md section 2, "Keys").

Each record is a frozen dataclass with `encode()` and a `decode()` classmethod; decoding a stored
value that does not fit its layout is a corrupted state and raises `CodecError`.

Solidity twins: `l1_contracts/src/prover/Records.sol` (the layouts, `TaskFlag`, `CommitStatus`) and
`l1_contracts/src/libraries/PackedI32.sol` (`encode_rows`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from enum import IntEnum

from protocol.errors import CodecError

ZERO_ADDRESS = b"\x00" * 20
ZERO32 = b"\x00" * 32


def _u128(value: int) -> bytes:
    return value.to_bytes(16, "big")


def _check_len(data: bytes, expected: int, what: str) -> None:
    if len(data) != expected:
        raise CodecError(f"{what} leaf is {expected} bytes, got {len(data)}")


@dataclass(frozen=True, slots=True)
class Meta:
    """Global counters: deposits consumed and the next id of each kind of object."""

    deposit_count: int = 0
    next_task_id: int = 0
    next_model_id: int = 0
    next_withdrawal_id: int = 0

    def encode(self) -> bytes:
        return struct.pack(
            ">QQQQ", self.deposit_count, self.next_task_id, self.next_model_id, self.next_withdrawal_id
        )

    @classmethod
    def decode(cls, data: bytes) -> Meta:
        _check_len(data, 32, "meta")
        return cls(*struct.unpack(">QQQQ", data))


@dataclass(frozen=True, slots=True)
class Account:
    """An L2 account: balance in wei (uint128) and the nonce of its next tx."""

    balance: int = 0
    nonce: int = 0

    def encode(self) -> bytes:
        return _u128(self.balance) + self.nonce.to_bytes(8, "big")

    @classmethod
    def decode(cls, data: bytes) -> Account:
        _check_len(data, 24, "account")
        return cls(int.from_bytes(data[:16], "big"), int.from_bytes(data[16:], "big"))


class TaskFlag(IntEnum):
    TEST_REVEALED = 1
    HAS_BEST = 2
    FINALIZED = 4


_TASK = struct.Struct(">20sBHHH16sQQ32s32s32sIIIBq20sI")


@dataclass(frozen=True, slots=True)
class Task:
    """A training competition: architecture, escrowed reward, deadlines, test set and leader."""

    submitter: bytes
    arch: int
    inputs: int
    hidden: int
    outputs: int
    reward: int
    commit_deadline: int
    reveal_deadline: int
    test_commitment: bytes
    train_data_ref: bytes
    test_root: bytes = ZERO32
    n_test: int = 0
    revealed_chunks: int = 0  # test chunks revealed so far, in order; all of them set TEST_REVEALED
    commit_count: int = 0
    flags: int = 0
    best_score: int = 0
    best_miner: bytes = ZERO_ADDRESS
    best_seq: int = 0

    def has(self, flag: TaskFlag) -> bool:
        return bool(self.flags & flag)

    def with_flag(self, flag: TaskFlag) -> Task:
        return replace(self, flags=self.flags | flag)

    def encode(self) -> bytes:
        return _TASK.pack(
            self.submitter,
            self.arch,
            self.inputs,
            self.hidden,
            self.outputs,
            _u128(self.reward),
            self.commit_deadline,
            self.reveal_deadline,
            self.test_commitment,
            self.train_data_ref,
            self.test_root,
            self.n_test,
            self.revealed_chunks,
            self.commit_count,
            self.flags,
            self.best_score,
            self.best_miner,
            self.best_seq,
        )

    @classmethod
    def decode(cls, data: bytes) -> Task:
        _check_len(data, _TASK.size, "task")
        f = _TASK.unpack(data)
        return cls(f[0], f[1], f[2], f[3], f[4], int.from_bytes(f[5], "big"), *f[6:])


class CommitStatus(IntEnum):
    COMMITTED = 1
    SCORED = 2


_COMMIT = struct.Struct(">32sIBq32s")


@dataclass(frozen=True, slots=True)
class Commitment:
    """A miner's commitment on a task and, once its weights are revealed and scored, its score."""

    commitment: bytes
    seq: int
    status: int = CommitStatus.COMMITTED
    score: int = 0
    weights_hash: bytes = ZERO32

    def encode(self) -> bytes:
        return _COMMIT.pack(self.commitment, self.seq, self.status, self.score, self.weights_hash)

    @classmethod
    def decode(cls, data: bytes) -> Commitment:
        _check_len(data, _COMMIT.size, "commitment")
        return cls(*_COMMIT.unpack(data))


_MODEL_HEAD = struct.Struct(">20sBIIQ")


@dataclass(frozen=True, slots=True)
class SharedModel:
    """A shared linear regression (the paper's contract): weights scaled by 10^7, bias first."""

    owner: bytes
    n_features: int
    learning_rate: int
    n_points: int
    epochs_trained: int
    weights: tuple[int, ...]

    def encode(self) -> bytes:
        head = _MODEL_HEAD.pack(
            self.owner, self.n_features, self.learning_rate, self.n_points, self.epochs_trained
        )
        return head + b"".join(w.to_bytes(8, "big", signed=True) for w in self.weights)

    @classmethod
    def decode(cls, data: bytes) -> SharedModel:
        if len(data) < _MODEL_HEAD.size:
            raise CodecError(f"model leaf is at least {_MODEL_HEAD.size} bytes, got {len(data)}")
        owner, n_features, lr, n_points, epochs = _MODEL_HEAD.unpack_from(data)
        _check_len(data, _MODEL_HEAD.size + 8 * (n_features + 1), "model")
        body = data[_MODEL_HEAD.size :]
        weights = tuple(int.from_bytes(body[i : i + 8], "big", signed=True) for i in range(0, len(body), 8))
        return cls(owner, n_features, lr, n_points, epochs, weights)


def encode_rows(rows: list[tuple[int, ...]]) -> bytes:
    """Rows of i32 values, concatenated: the layout of test and data chunks."""
    return b"".join(v.to_bytes(4, "big", signed=True) for row in rows for v in row)


def decode_rows(data: bytes, width: int) -> list[tuple[int, ...]]:
    """Inverse of `encode_rows` for rows of `width` values."""
    row_bytes = 4 * width
    if width < 1 or len(data) % row_bytes:
        raise CodecError(f"chunk of {len(data)} bytes is not a whole number of {width}-value rows")
    values = [int.from_bytes(data[i : i + 4], "big", signed=True) for i in range(0, len(data), 4)]
    return [tuple(values[i : i + width]) for i in range(0, len(values), width)]


_WITHDRAWAL = struct.Struct(">20s16s")


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """An L2 withdrawal, claimable once on L1 against a finalized state root."""

    recipient: bytes
    amount: int

    def encode(self) -> bytes:
        return self.recipient + _u128(self.amount)

    @classmethod
    def decode(cls, data: bytes) -> Withdrawal:
        _check_len(data, _WITHDRAWAL.size, "withdrawal")
        return cls(data[:20], int.from_bytes(data[20:], "big"))
