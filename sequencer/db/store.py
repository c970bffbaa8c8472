"""Every read and write of the sequencer's database. Each method is one transaction.

The writes that matter for crash consistency are `insert_txs` (a tx is acknowledged only after it
commits), `write_block` (a block, its receipts, its state leaves, undo entries and steps, and the
deposits it consumed: all or nothing) and `rollback_to` (every batch from one on undone, and their
txs pending again: all or nothing).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CursorResult, Engine, Result, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from protocol.codec import BatchHeader, batch_data_hash, encode_batch
from protocol.hashing import merkle_root
from protocol.params import PROTOCOL_VERSION
from protocol.receipts import Receipt
from protocol.signing import Domain, to_checksum_address
from sequencer.core.errors import SequencerError, StartupError
from sequencer.db.migrate import upgrade_head
from sequencer.db.models import (
    Base,
    BatchRow,
    BatchState,
    BlockRow,
    CommitmentRow,
    DepositRow,
    LeafRow,
    LeafUndoRow,
    MetaRow,
    Origin,
    StepRow,
    SyncLogRow,
    TxRow,
    TxStatus,
)
from sequencer.db.session import Database
from sequencer.l1 import L1Deposit

LEAF_CHUNK = 5_000  # rows a statement when loading or writing many leaves
TABLES = Base.metadata.tables


class DepositGapError(SequencerError):
    """Deposits offered out of queue order, or contradicting ones already stored."""


@dataclass(frozen=True, slots=True)
class TxReceiptWrite:
    seq: int
    status: str
    block_index: int
    reason: int
    detail: str
    created_id: int | None
    first_step: int
    last_step: int
    fee: int  # wei the tx paid (0 when it failed)

    @classmethod
    def of(cls, seq: int, receipt: Receipt, status: str | None = None) -> TxReceiptWrite:
        """The row of the tx stored as `seq` that `receipt` is the outcome of (`status`: by default
        executed or failed, as the receipt says)."""
        if status is None:
            status = TxStatus.EXECUTED if receipt.success else TxStatus.FAILED
        return cls(
            seq,
            status,
            receipt.tx_index,
            int(receipt.reason),
            receipt.detail,
            receipt.created_id,
            receipt.first_step,
            receipt.last_step,
            receipt.fee,
        )


@dataclass(slots=True)
class BlockWrite:
    """Everything one block changes, written by `Store.write_block` in one transaction."""

    block: BlockRow
    new_batch: BatchRow | None  # the batch this block opens, if any
    batch_update: dict[str, Any]  # new values of the (open) batch's counters
    receipts: list[TxReceiptWrite]
    leaves: list[tuple[bytes, bytes]]
    undo: list[tuple[bytes, bytes | None]]
    steps: list[dict[str, Any]]
    deposit_indices: range
    commitments: list[tuple[int, bytes]] = field(default_factory=list)
    new_txs: list[dict[str, Any]] = field(default_factory=list)  # rows inserted first (foreign txs)
    meta: dict[str, str] = field(default_factory=dict)  # `sequencer_meta` values set with the block
    log: SyncLogRow | None = None  # what following L1 records about this block (an adopted batch)


@dataclass(frozen=True, slots=True)
class Rollback:
    """What `Store.rollback_to` undid."""

    batch_id: int  # the first batch removed
    batch_ids: tuple[int, ...]
    blocks: int
    requeued: tuple[TxRow, ...]  # local txs pending again, in arrival (seq) order, with `replay_ts`
    dropped: int  # foreign txs forgotten (they came only with a removed foreign batch)
    height: int  # the last block kept (0: none)


class Store:
    """The sequencer's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def engine(self) -> Engine:
        return self.db.engine

    # --- start ------------------------------------------------------------------------------------

    def migrate(self) -> None:
        upgrade_head(self.engine)

    def check_domain(self, domain: Domain) -> None:
        """Record the domain on first use; `StartupError` when the database was made for another."""
        want = {"chain_id": str(domain.chain_id), "rollup": to_checksum_address(domain.verifying_contract)}
        with self.db.write() as s, s.begin():
            have = {row.name: row.value for row in s.scalars(select(MetaRow))}
            for name, value in want.items():
                if name not in have:
                    s.add(MetaRow(name=name, value=value))
                elif have[name] != value:
                    raise StartupError(
                        f"the database was created for {name} {have[name]}, this sequencer is configured "
                        f"for {value}: point MLROLLUP_DATABASE_URL at another database"
                    )

    def iter_leaves(self) -> Iterator[tuple[bytes, bytes]]:
        with self.db.read() as s:
            result = s.execute(select(LeafRow.key, LeafRow.value).execution_options(yield_per=LEAF_CHUNK))
            for key, value in result:
                yield bytes(key), bytes(value)

    def pending_txs(self) -> list[TxRow]:
        with self.db.read() as s:
            return list(s.scalars(select(TxRow).where(TxRow.status == TxStatus.PENDING).order_by(TxRow.seq)))

    def max_seq(self) -> int:
        with self.db.read() as s:
            return s.scalar(select(func.max(TxRow.seq))) or 0

    # --- txs --------------------------------------------------------------------------------------

    def known_hashes(self, hashes: Sequence[bytes]) -> set[bytes]:
        with self.db.read() as s:
            return {bytes(h) for h in s.scalars(select(TxRow.hash).where(TxRow.hash.in_(list(hashes))))}

    def txs_by_hash(self, hashes: Sequence[bytes]) -> dict[bytes, TxRow]:
        """The stored txs among `hashes`, by hash."""
        if not hashes:
            return {}
        with self.db.read() as s:
            return {bytes(r.hash): r for r in s.scalars(select(TxRow).where(TxRow.hash.in_(list(hashes))))}

    def insert_txs(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store accepted txs; returns once they are committed (durable). Core, not the ORM: this is
        the hot path of admission."""
        with self.db.writer.begin() as conn:
            conn.execute(insert(TABLES["txs"]), list(rows))

    def tx(self, tx_hash: bytes) -> TxRow | None:
        with self.db.read() as s:
            return s.scalar(select(TxRow).where(TxRow.hash == tx_hash))

    def block_txs(self, number: int) -> list[TxRow]:
        with self.db.read() as s:
            return list(
                s.scalars(select(TxRow).where(TxRow.block_number == number).order_by(TxRow.block_index))
            )

    # --- blocks and batches -------------------------------------------------------------------------

    def block(self, number: int) -> BlockRow | None:
        with self.db.read() as s:
            return s.get(BlockRow, number)

    def last_block(self) -> BlockRow | None:
        with self.db.read() as s:
            return s.scalar(select(BlockRow).order_by(BlockRow.number.desc()).limit(1))

    def blocks(self, first: int, last: int) -> list[BlockRow]:
        with self.db.read() as s:
            return list(
                s.scalars(
                    select(BlockRow).where(BlockRow.number.between(first, last)).order_by(BlockRow.number)
                )
            )

    def batch(self, batch_id: int) -> BatchRow | None:
        with self.db.read() as s:
            return s.get(BatchRow, batch_id)

    def last_batch(self) -> BatchRow | None:
        with self.db.read() as s:
            return s.scalar(select(BatchRow).order_by(BatchRow.id.desc()).limit(1))

    def last_batch_with(self, *statuses: str) -> BatchRow | None:
        with self.db.read() as s:
            return s.scalar(
                select(BatchRow).where(BatchRow.status.in_(statuses)).order_by(BatchRow.id.desc()).limit(1)
            )

    def batches(self, after: int = -1, limit: int = 100, statuses: Sequence[str] = ()) -> list[BatchRow]:
        """Batches with id above `after` in id order, of any status or of `statuses`."""
        query = select(BatchRow).where(BatchRow.id > after)
        if statuses:
            query = query.where(BatchRow.status.in_(statuses))
        with self.db.read() as s:
            return list(s.scalars(query.order_by(BatchRow.id).limit(limit)))

    def batches_with(self, status: str, after: int = -1, limit: int = 100) -> list[BatchRow]:
        with self.db.read() as s:
            return list(
                s.scalars(
                    select(BatchRow)
                    .where(BatchRow.status == status, BatchRow.id > after)
                    .order_by(BatchRow.id)
                    .limit(limit)
                )
            )

    def steps(self, batch_id: int, offset: int = 0, limit: int | None = None) -> list[StepRow]:
        with self.db.read() as s:
            query = (
                select(StepRow)
                .where(StepRow.batch_id == batch_id, StepRow.batch_index >= offset)
                .order_by(StepRow.batch_index)
            )
            if limit is not None:
                query = query.limit(limit)
            return list(s.scalars(query))

    def undo_keys(self, batch_id: int) -> set[bytes]:
        with self.db.read() as s:
            return {
                bytes(k) for k in s.scalars(select(LeafUndoRow.key).where(LeafUndoRow.batch_id == batch_id))
            }

    def undo_after(self, batch_id: int) -> list[tuple[int, bytes, bytes | None]]:
        """Undo entries of every batch after `batch_id`, newest batch first."""
        with self.db.read() as s:
            rows = s.execute(
                select(LeafUndoRow.batch_id, LeafUndoRow.key, LeafUndoRow.prev_value)
                .where(LeafUndoRow.batch_id > batch_id)
                .order_by(LeafUndoRow.batch_id.desc())
            )
            return [(b, bytes(k), None if v is None else bytes(v)) for b, k, v in rows]

    def write_block(self, w: BlockWrite) -> None:
        """One block, all or nothing (see `BlockWrite`)."""
        with self.db.write() as s, s.begin():
            if w.new_batch is not None:
                s.add(w.new_batch)
                s.flush()
            s.add(w.block)
            if w.new_txs:
                s.execute(insert(TxRow), w.new_txs)
            if w.receipts:
                s.execute(
                    update(TxRow),
                    [
                        {
                            "seq": r.seq,
                            "status": r.status,
                            "block_number": w.block.number,
                            "block_index": r.block_index,
                            "reason": r.reason,
                            "detail": r.detail,
                            "created_id": r.created_id,
                            "fee": str(r.fee),
                            "first_step": r.first_step,
                            "last_step": r.last_step,
                            "executed_at": w.block.created_at,
                            "replay_ts": None,
                        }
                        for r in w.receipts
                    ],
                )
            self._upsert_leaves(s, w.leaves)
            if w.undo:
                s.execute(
                    insert(LeafUndoRow),
                    [{"batch_id": w.block.batch_id, "key": k, "prev_value": v} for k, v in w.undo],
                )
            if w.steps:
                s.execute(insert(StepRow), w.steps)
            if len(w.deposit_indices):
                s.execute(
                    update(DepositRow)
                    .where(DepositRow.index.between(w.deposit_indices.start, w.deposit_indices.stop - 1))
                    .values(block_number=w.block.number)
                )
            if w.commitments:
                s.execute(
                    insert(CommitmentRow),
                    [{"task_id": t, "miner": m, "block_number": w.block.number} for t, m in w.commitments],
                )
            if w.batch_update:
                s.execute(update(BatchRow).where(BatchRow.id == w.block.batch_id).values(**w.batch_update))
            for name, value in w.meta.items():
                s.merge(MetaRow(name=name, value=value))
            if w.log is not None:
                s.add(w.log)

    def rollback_to(self, batch_id: int, at: float, reason: str) -> Rollback:
        """Undo every batch from `batch_id` on, in one transaction: each leaf they changed back to its
        value before them (the undo log), their blocks, steps, commitments and undo entries gone,
        the deposits they consumed unconsumed, their local txs pending again (a local tx was
        acknowledged here and is never lost) and their foreign txs forgotten, the batches deleted
        (their ids are L1 indices, which L1 gives out again), and the rollback logged with `reason`.
        `SequencerError` for a final batch: L1 never deletes one."""
        with self.db.write() as s, s.begin():
            final = s.scalar(select(func.max(BatchRow.id)).where(BatchRow.status == BatchState.FINAL))
            if final is not None and batch_id <= final:
                raise SequencerError(
                    f"batch {batch_id} is final (the last final batch is {final}): L1 never deletes a "
                    "final batch, so this database does not follow this L1 deployment"
                )
            ids = tuple(s.scalars(select(BatchRow.id).where(BatchRow.id >= batch_id).order_by(BatchRow.id)))
            first = s.scalar(select(func.min(BlockRow.number)).where(BlockRow.batch_id >= batch_id))
            undo = s.execute(
                select(LeafUndoRow.key, LeafUndoRow.prev_value)
                .where(LeafUndoRow.batch_id >= batch_id)
                .order_by(LeafUndoRow.batch_id.desc())
            )
            restore: dict[bytes, bytes | None] = {}
            for key, prev in undo:  # the oldest batch's entry comes last and wins
                restore[bytes(key)] = None if prev is None else bytes(prev)
            self._upsert_leaves(s, [(k, v) for k, v in restore.items() if v is not None])
            gone = [k for k, v in restore.items() if v is None]
            for start in range(0, len(gone), LEAF_CHUNK):
                s.execute(delete(LeafRow).where(LeafRow.key.in_(gone[start : start + LEAF_CHUNK])))
            s.execute(delete(LeafUndoRow).where(LeafUndoRow.batch_id >= batch_id))
            s.execute(delete(StepRow).where(StepRow.batch_id >= batch_id))
            requeued: tuple[TxRow, ...] = ()
            dropped = blocks = 0
            if first is not None:
                in_removed = TxRow.block_number >= first
                local = TxRow.origin == Origin.LOCAL
                seqs = list(s.scalars(select(TxRow.seq).where(in_removed, local).order_by(TxRow.seq)))
                ran_at = select(BlockRow.timestamp).where(BlockRow.number == TxRow.block_number)
                s.execute(
                    update(TxRow)
                    .where(in_removed, local)
                    .values(
                        replay_ts=ran_at.scalar_subquery(),  # SET reads the row as it was
                        status=TxStatus.PENDING,
                        block_number=None,
                        block_index=None,
                        reason=None,
                        detail=None,
                        created_id=None,
                        fee=None,
                        first_step=None,
                        last_step=None,
                        executed_at=None,
                    )
                    .execution_options(synchronize_session=False)
                )
                rows: list[TxRow] = []
                for start in range(0, len(seqs), LEAF_CHUNK):
                    chunk = select(TxRow).where(TxRow.seq.in_(seqs[start : start + LEAF_CHUNK]))
                    rows += s.scalars(chunk.order_by(TxRow.seq).execution_options(populate_existing=True))
                requeued = tuple(rows)
                dropped = _count(s.execute(delete(TxRow).where(in_removed, TxRow.origin == Origin.FOREIGN)))
                unconsumed = update(DepositRow).where(DepositRow.block_number >= first)
                s.execute(unconsumed.values(block_number=None))
                s.execute(delete(CommitmentRow).where(CommitmentRow.block_number >= first))
                blocks = _count(s.execute(delete(BlockRow).where(BlockRow.number >= first)))
            s.execute(delete(BatchRow).where(BatchRow.id >= batch_id))
            if ids:
                s.add(SyncLogRow(at=at, kind="rollback", batch_id=batch_id, detail=reason))
            height = s.scalar(select(func.max(BlockRow.number))) or 0
            return Rollback(batch_id, ids, blocks, requeued, dropped, height)

    def log_sync(self, kind: str, batch_id: int, detail: str, at: float) -> None:
        """Record a decision of the L1 follower that changes nothing else (a refused batch)."""
        with self.db.write() as s, s.begin():
            s.add(SyncLogRow(at=at, kind=kind, batch_id=batch_id, detail=detail))

    def sync_log(self, limit: int = 20) -> list[SyncLogRow]:
        """The follower's last decisions, newest first."""
        with self.db.read() as s:
            return list(s.scalars(select(SyncLogRow).order_by(SyncLogRow.id.desc()).limit(limit)))

    def meta(self, name: str) -> str | None:
        """A `sequencer_meta` value."""
        with self.db.read() as s:
            row = s.get(MetaRow, name)
            return None if row is None else row.value

    def _upsert_leaves(self, s: Session, leaves: list[tuple[bytes, bytes]]) -> None:
        if not leaves:
            return
        upsert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = upsert(LeafRow)
        stmt = stmt.on_conflict_do_update(index_elements=[LeafRow.key], set_={"value": stmt.excluded.value})
        for start in range(0, len(leaves), LEAF_CHUNK):
            s.execute(stmt, [{"key": k, "value": v} for k, v in leaves[start : start + LEAF_CHUNK]])

    def seal_batch(self, batch_id: int, sealed_at: float) -> BatchRow:
        """Close batch `batch_id`: its trace root over every step, its data and data hash."""
        with self.db.write() as s, s.begin():
            batch = s.get(BatchRow, batch_id)
            if batch is None or batch.status != BatchState.OPEN:
                raise SequencerError(f"batch {batch_id} is not open")
            hashes = [
                bytes(h)
                for h in s.scalars(
                    select(StepRow.hash).where(StepRow.batch_id == batch_id).order_by(StepRow.batch_index)
                )
            ]
            assert len(hashes) == batch.step_count, (len(hashes), batch.step_count)
            txs: list[bytes] = []
            if batch.first_block is not None and batch.last_block is not None:
                rows = s.execute(
                    select(TxRow.raw)
                    .where(TxRow.block_number.between(batch.first_block, batch.last_block))
                    .order_by(TxRow.block_number, TxRow.block_index)
                )
                txs = [bytes(r) for (r,) in rows]
            assert len(txs) == batch.tx_count, (len(txs), batch.tx_count)
            data = encode_batch(batch.timestamp, txs)
            assert len(data) == batch.data_bytes, (len(data), batch.data_bytes)
            batch.data = data
            batch.data_hash = batch_data_hash(BatchHeader(PROTOCOL_VERSION, batch.timestamp, len(txs)), txs)
            batch.trace_root = merkle_root(hashes)
            batch.status = BatchState.SEALED
            batch.sealed_at = sealed_at
            return batch

    def record_posted(
        self, batch_id: int, l1_tx_hash: bytes, l1_block: int, gas_used: int, at: float
    ) -> None:
        with self.db.write() as s, s.begin():
            batch = s.get(BatchRow, batch_id)
            if batch is None or batch.status not in (BatchState.SEALED, BatchState.POSTED):
                raise SequencerError(f"batch {batch_id} is not sealed: it cannot be posted")
            batch.status = BatchState.POSTED
            batch.l1_tx_hash = l1_tx_hash
            batch.l1_block = l1_block
            batch.gas_used = gas_used
            batch.posted_at = at

    def set_batch_status(self, batch_id: int, status: str) -> None:
        """Move a posted batch to challenged, final or rolled back. Marking one final drops the undo
        entries of the batches before it: no state older than the last final one is served."""
        with self.db.write() as s, s.begin():
            batch = s.get(BatchRow, batch_id)
            if batch is None or batch.status == BatchState.OPEN:
                raise SequencerError(f"batch {batch_id} is not sealed")
            batch.status = status
            if status == BatchState.FINAL:
                s.execute(delete(LeafUndoRow).where(LeafUndoRow.batch_id <= batch_id))

    # --- deposits ------------------------------------------------------------------------------------

    def next_deposit_index(self) -> int:
        with self.db.read() as s:
            last = s.scalar(select(func.max(DepositRow.index)))
            return 0 if last is None else last + 1

    def add_deposits(self, items: Sequence[L1Deposit], seen_at: float) -> int:
        """Store deposits that continue the queue; ones already stored (same contents) are skipped.
        Returns how many were new. `DepositGapError` on a gap or a contradiction."""
        if not items:
            return 0
        with self.db.write() as s, s.begin():
            last = s.scalar(select(func.max(DepositRow.index)))
            expected = 0 if last is None else last + 1
            new = []
            for item in items:
                d = item.deposit
                if d.index < expected:
                    stored = s.get(DepositRow, d.index)
                    if stored is None or (bytes(stored.recipient), stored.amount) != (d.recipient, d.amount):
                        raise DepositGapError(f"deposit {d.index} contradicts the stored one")
                    continue
                if d.index != expected:
                    raise DepositGapError(f"deposit {d.index} leaves a gap: {expected} is next")
                new.append(
                    {
                        "index": d.index,
                        "recipient": d.recipient,
                        "amount": d.amount,
                        "l1_block": item.l1_block,
                        "l1_tx_hash": item.l1_tx_hash,
                        "block_number": None,
                        "seen_at": seen_at,
                    }
                )
                expected += 1
            if new:
                s.execute(insert(DepositRow), new)
            return len(new)

    def deposits_from(self, index: int, limit: int) -> list[DepositRow]:
        with self.db.read() as s:
            return list(
                s.scalars(
                    select(DepositRow)
                    .where(DepositRow.index >= index)
                    .order_by(DepositRow.index)
                    .limit(limit)
                )
            )

    # --- tasks ---------------------------------------------------------------------------------------

    def committed_miners(self, task_id: int) -> list[bytes]:
        with self.db.read() as s:
            rows = s.scalars(select(CommitmentRow.miner).where(CommitmentRow.task_id == task_id))
            return [bytes(m) for m in rows]


def _count(result: Result[Any]) -> int:
    """The rows a DELETE or UPDATE statement matched."""
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
