"""The L2 state: a sparse Merkle tree of typed leaves, and the views a step executes on.

`State` is immutable (the tree is persistent), so every step's state is a cheap snapshot. A step
never writes the tree directly: it runs on an `Overlay`, which buffers writes and records every key
it touches with its value before the step, in order of first access: exactly the access list a
witness carries (docs/spec.md section 8).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from protocol import keys
from protocol.records import (
    Account,
    Commitment,
    Meta,
    SharedModel,
    Task,
    Withdrawal,
    decode_rows,
)
from protocol.smt import SparseMerkleTree


class StateReader(Protocol):
    """Anything a step can read state leaves from: a tree, or a witness."""

    def get(self, key: bytes) -> bytes | None: ...


class TypedReads:
    """Typed getters over a `get(key)`; shared by `State` (API reads) and `Ledger` (steps)."""

    __slots__ = ()

    def get(self, key: bytes) -> bytes | None:
        raise NotImplementedError

    def meta(self) -> Meta:
        raw = self.get(keys.META_KEY)
        return Meta() if raw is None else Meta.decode(raw)

    def account(self, address: bytes) -> Account:
        raw = self.get(keys.account_key(address))
        return Account() if raw is None else Account.decode(raw)

    def task(self, task_id: int) -> Task | None:
        raw = self.get(keys.task_key(task_id))
        return None if raw is None else Task.decode(raw)

    def commitment(self, task_id: int, miner: bytes) -> Commitment | None:
        raw = self.get(keys.commitment_key(task_id, miner))
        return None if raw is None else Commitment.decode(raw)

    def model(self, model_id: int) -> SharedModel | None:
        raw = self.get(keys.model_key(model_id))
        return None if raw is None else SharedModel.decode(raw)

    def withdrawal(self, withdrawal_id: int) -> Withdrawal | None:
        raw = self.get(keys.withdrawal_key(withdrawal_id))
        return None if raw is None else Withdrawal.decode(raw)

    def test_chunk(self, task_id: int, chunk: int, width: int) -> list[tuple[int, ...]]:
        """Rows `(features..., label)` of one stored test chunk; empty when absent."""
        raw = self.get(keys.test_chunk_key(task_id, chunk))
        return [] if raw is None else decode_rows(raw, width)

    def data_chunk(self, model_id: int, chunk: int, width: int) -> list[tuple[int, ...]]:
        """Rows `(x..., y)` of one stored data chunk of a shared model; empty when absent."""
        raw = self.get(keys.data_chunk_key(model_id, chunk))
        return [] if raw is None else decode_rows(raw, width)


class State(TypedReads):
    """An immutable L2 state. `apply_batch` returns a new one; the old one stays valid."""

    __slots__ = ("tree",)

    def __init__(self, tree: SparseMerkleTree | None = None) -> None:
        self.tree = SparseMerkleTree.empty() if tree is None else tree

    @classmethod
    def from_leaves(cls, leaves: Iterable[tuple[bytes, bytes]]) -> State:
        """A state from raw (key, value) leaves, e.g. a stored snapshot."""
        return cls(SparseMerkleTree.from_items(leaves))

    @classmethod
    def with_balances(cls, balances: Mapping[bytes, int]) -> State:
        """A state holding only the given account balances (tests and benchmarks)."""
        return cls.from_leaves(
            (keys.account_key(addr), Account(balance).encode()) for addr, balance in balances.items()
        )

    @property
    def root(self) -> bytes:
        return self.tree.root

    def get(self, key: bytes) -> bytes | None:
        return self.tree.get(key)

    def leaves(self) -> Iterable[tuple[bytes, bytes]]:
        """Every (key, value) leaf in key order: a full snapshot."""
        return self.tree.items()


class Overlay:
    """Buffered writes over a reader, recording each key's pre-step value in first-access order."""

    __slots__ = ("base", "pre", "writes")

    def __init__(self, base: StateReader) -> None:
        self.base = base
        self.pre: dict[bytes, bytes | None] = {}
        self.writes: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        if key in self.pre:
            return self.pre[key]
        value = self.base.get(key)
        self.pre[key] = value
        return value

    def set(self, key: bytes, value: bytes) -> None:
        if key not in self.pre:
            self.pre[key] = self.base.get(key)
        self.writes[key] = value

    def discard_writes(self) -> None:
        """Drop the writes (a failed tx) but keep the reads, which its witness still needs."""
        self.writes.clear()

    def changes(self) -> list[tuple[bytes, bytes]]:
        """Writes that differ from the pre-step value."""
        return [(k, v) for k, v in self.writes.items() if self.pre[k] != v]


class Ledger(TypedReads):
    """Typed reads and writes of a step, over an `Overlay`."""

    __slots__ = ("view",)

    def __init__(self, view: Overlay) -> None:
        self.view = view

    def get(self, key: bytes) -> bytes | None:
        return self.view.get(key)

    def put_meta(self, meta: Meta) -> None:
        self.view.set(keys.META_KEY, meta.encode())

    def put_account(self, address: bytes, account: Account) -> None:
        self.view.set(keys.account_key(address), account.encode())

    def put_task(self, task_id: int, task: Task) -> None:
        self.view.set(keys.task_key(task_id), task.encode())

    def put_commitment(self, task_id: int, miner: bytes, commitment: Commitment) -> None:
        self.view.set(keys.commitment_key(task_id, miner), commitment.encode())

    def put_model(self, model_id: int, model: SharedModel) -> None:
        self.view.set(keys.model_key(model_id), model.encode())

    def put_withdrawal(self, withdrawal_id: int, withdrawal: Withdrawal) -> None:
        self.view.set(keys.withdrawal_key(withdrawal_id), withdrawal.encode())

    def put_raw(self, key: bytes, value: bytes) -> None:
        self.view.set(key, value)
