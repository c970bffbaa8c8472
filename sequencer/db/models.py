"""The sequencer's tables as SQLAlchemy 2 typed models (the same on SQLite and PostgreSQL).

Bytes are `LargeBinary` (BLOB, BYTEA): hashes, keys and roots are 32 bytes, addresses 20. Amounts
are u128, wider than any SQL integer: they are stored as decimal text (`U128`). Integers that the
protocol bounds to u64 but that stay small in practice (nonces, ids, block numbers) are BIGINT.

- `txs`: every acknowledged tx, pending until a block executes it, then its receipt.
- `blocks`, `steps`: the L2 blocks and every step of their trace (state root, batch-level cursor,
  job hash, step hash), so a batch's steps are served without re-execution.
- `batches`: groups of blocks posted to L1 as one batch (docs/spec.md section 4), with their roots,
  data and L1 transaction.
- `leaves`: the current state (key → value), written with each block in the same transaction.
- `leaf_undo`: each key's value before the batch first changed it, so the state at the end of any
  batch (for proofs against a finalized root, or a rollback) is the current state minus the undos.
- `deposits`: the L1 deposit queue as seen by the watcher, and the block that consumed each one.
- `commitments`: which miners committed on which task (the leaderboard's index; values are leaves).
- `sequencer_meta`: the domain the database was created for, checked at start (and whether the
  unsafe fault drill was spent, `sequencer.faults`).
- `sync_log`: what following L1 did (`sequencer.follower`): rollbacks, adopted and refused batches.

Batches and txs have an `origin`: `local` (built here; a local tx was acknowledged here) or `foreign`
(another proposer's batch adopted from L1, and the txs only it carried).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class U128(TypeDecorator[int]):
    """A u128 stored as decimal text: exact on every backend."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | None:
        return None if value is None else str(int(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class Base(DeclarativeBase):
    pass


class Origin:
    LOCAL = "local"
    FOREIGN = "foreign"


class TxStatus:
    PENDING = "pending"
    EXECUTED = "executed"  # in a block, successful
    FAILED = "failed"  # in a block, with a failed receipt (e.g. a deadline passed after acceptance)


class TxRow(Base):
    __tablename__ = "txs"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # arrival order
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    tx_type: Mapped[int] = mapped_column(SmallInteger)
    sender: Mapped[bytes | None] = mapped_column(LargeBinary(20), index=True)  # None: a foreign tx
    # that did not decode or whose signature did not recover
    nonce: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[float] = mapped_column(Float)
    block_number: Mapped[int | None] = mapped_column(BigInteger, index=True)
    block_index: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[int | None] = mapped_column(SmallInteger)
    detail: Mapped[str | None] = mapped_column(Text)
    created_id: Mapped[int | None] = mapped_column(BigInteger)
    fee: Mapped[str | None] = mapped_column(String(40))  # wei the tx paid, in decimal (above 2^63)
    first_step: Mapped[int | None] = mapped_column(Integer)  # within the block
    last_step: Mapped[int | None] = mapped_column(Integer)
    executed_at: Mapped[float | None] = mapped_column(Float)
    origin: Mapped[str] = mapped_column(String(8), default=Origin.LOCAL, server_default=Origin.LOCAL)
    # Pending again after a rollback: the timestamp of the deleted batch it ran in, which it runs
    # again at (its deadlines compare the same way); cleared once it has run.
    replay_ts: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_txs_status_seq", "status", "seq"),)


class BatchState:
    """A batch's `status` in the sequencer's database (not L1's `l1_contracts.bindings.BatchStatus`)."""

    OPEN = "open"  # taking blocks
    SEALED = "sealed"  # closed, roots final, waiting for the poster
    POSTED = "posted"  # on L1
    CHALLENGED = "challenged"
    FINAL = "final"
    ROLLED_BACK = "rolled_back"


class BatchRow(Base):
    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16), index=True)
    timestamp: Mapped[int] = mapped_column(BigInteger)  # every block of the batch executes at it
    first_block: Mapped[int | None] = mapped_column(BigInteger)
    last_block: Mapped[int | None] = mapped_column(BigInteger)
    tx_count: Mapped[int] = mapped_column(Integer, default=0)
    data_bytes: Mapped[int] = mapped_column(Integer)  # size of the batch data so far
    deposit_start: Mapped[int] = mapped_column(BigInteger)
    deposit_count: Mapped[int] = mapped_column(Integer, default=0)
    step_count: Mapped[int] = mapped_column(Integer, default=0)
    prev_root: Mapped[bytes] = mapped_column(LargeBinary(32))
    post_root: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    trace_root: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # set when sealed
    data: Mapped[bytes | None] = mapped_column(LargeBinary)  # the batch data, set when sealed
    data_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    opened_at: Mapped[float] = mapped_column(Float)
    sealed_at: Mapped[float | None] = mapped_column(Float)
    l1_tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    l1_block: Mapped[int | None] = mapped_column(BigInteger)
    gas_used: Mapped[int | None] = mapped_column(BigInteger)
    posted_at: Mapped[float | None] = mapped_column(Float)
    origin: Mapped[str] = mapped_column(String(8), default=Origin.LOCAL, server_default=Origin.LOCAL)
    proposer: Mapped[str | None] = mapped_column(String(42))  # the L1 sender, when known (checksummed)


class BlockRow(Base):
    __tablename__ = "blocks"

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    pre_root: Mapped[bytes] = mapped_column(LargeBinary(32))
    post_root: Mapped[bytes] = mapped_column(LargeBinary(32))
    trace_root: Mapped[bytes] = mapped_column(LargeBinary(32))  # of the block executed on its own
    tx_count: Mapped[int] = mapped_column(Integer)
    deposit_start: Mapped[int] = mapped_column(BigInteger)
    deposit_end: Mapped[int] = mapped_column(BigInteger)  # exclusive
    input_offset: Mapped[int] = mapped_column(Integer)  # batch inputs before this block
    step_offset: Mapped[int] = mapped_column(Integer)  # batch steps before this block
    step_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[float] = mapped_column(Float)
    exec_seconds: Mapped[float] = mapped_column(Float)


class StepRow(Base):
    __tablename__ = "steps"

    batch_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    batch_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    block_number: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[int] = mapped_column(SmallInteger)
    state_root: Mapped[bytes] = mapped_column(LargeBinary(32))
    cursor: Mapped[int] = mapped_column(Integer)  # inputs of the batch consumed after the step
    job_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))  # H(stateRoot ‖ u32 cursor ‖ jobHash)


class LeafRow(Base):
    __tablename__ = "leaves"

    key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class LeafUndoRow(Base):
    __tablename__ = "leaf_undo"

    batch_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    prev_value: Mapped[bytes | None] = mapped_column(LargeBinary)  # None: the key did not exist


class DepositRow(Base):
    __tablename__ = "deposits"

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    recipient: Mapped[bytes] = mapped_column(LargeBinary(20))
    amount: Mapped[int] = mapped_column(U128)
    l1_block: Mapped[int] = mapped_column(BigInteger)
    l1_tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    block_number: Mapped[int | None] = mapped_column(BigInteger, index=True)  # the L2 block that consumed it
    seen_at: Mapped[float] = mapped_column(Float)


class CommitmentRow(Base):
    __tablename__ = "commitments"

    task_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    miner: Mapped[bytes] = mapped_column(LargeBinary(20), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)


class MetaRow(Base):
    __tablename__ = "sequencer_meta"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SyncLogRow(Base):
    __tablename__ = "sync_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16))  # rollback | adopt | refuse
    batch_id: Mapped[int] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(Text)
