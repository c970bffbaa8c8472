"""Another proposer's batch, adopted from L1: its derived result as the records of one block.

When L1 holds a VALID batch this sequencer did not build (`sequencer.follower`), the sequencer stores
it as it stores its own: one block holding the whole batch, with its receipts, steps, changed leaves
and undo entries, so that reads, proofs against its root and a later rollback work the same way. Its
txs, by hash:

- a tx acknowledged here, still pending, that the batch executed successfully takes the batch's
  receipt: its nonce is spent, so it never runs here again;
- a tx acknowledged here that failed in the batch stays pending (a failed tx changes nothing; it runs
  here in its turn), and a copy of a tx already executed here is a replay that failed: neither is
  stored twice (a hash names one tx row);
- every other tx is stored as a foreign tx with its receipt (no sender when it did not decode or its
  signature did not recover).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from protocol.codec import decode_tx
from protocol.derive import Derived
from protocol.hashing import keccak
from protocol.jobs import job_hash
from protocol.receipts import Reason
from protocol.txs import CommitModel, TxType
from sequencer.db.models import BatchRow, BatchState, BlockRow, Origin, SyncLogRow, TxRow, TxStatus
from sequencer.db.store import BlockWrite, TxReceiptWrite
from sequencer.mempool import tx_nonce


@dataclass(frozen=True, slots=True)
class ForeignBlock:
    """The records of an adopted batch, and what they do to the mempool."""

    write: BlockWrite
    executed: frozenset[bytes]  # pending txs of ours the batch executed: out of the mempool
    seqs_used: int  # seq numbers given to the foreign txs stored


def foreign_block(
    derived: Derived,
    *,
    number: int,
    known: Mapping[bytes, TxRow],
    next_seq: int,
    origin: str,
    now: float,
    note: str,
) -> ForeignBlock:
    """The `BlockWrite` that stores the VALID batch `derived` as block `number` (the next one).

    `known` maps the hashes of the batch's txs that are already stored to their rows; new rows take
    seq numbers from `next_seq` on. `origin` is `local` when our own proposer posted it (a batch
    this database lost, e.g. after a rollback), else `foreign`; `note` goes to the sync log."""
    batch, result = derived.batch, derived.result
    assert result is not None, "only a derived (decodable) batch is adopted"
    receipts: list[TxReceiptWrite] = []
    new_txs: list[dict[str, Any]] = []
    executed: set[bytes] = set()
    seen: set[bytes] = set()
    commitments: list[tuple[int, bytes]] = []
    for receipt, raw in zip(result.receipts, result.txs, strict=True):
        tx_hash = receipt.tx_hash
        if tx_hash in seen:
            continue  # a repeat within the batch: a replay, failed
        seen.add(tx_hash)
        status = TxStatus.EXECUTED if receipt.success else TxStatus.FAILED
        fields: dict[str, Any] = {
            "block_index": receipt.tx_index,
            "reason": int(receipt.reason),
            "detail": receipt.detail,
            "created_id": receipt.created_id,
            "first_step": receipt.first_step,
            "last_step": receipt.last_step,
            "fee": str(receipt.fee),
        }
        row = known.get(tx_hash)
        if row is not None:
            if row.status == TxStatus.PENDING and receipt.success:
                receipts.append(TxReceiptWrite.of(row.seq, receipt, status))
                executed.add(tx_hash)
        else:
            new_txs.append(
                {
                    "seq": next_seq + len(new_txs),
                    "hash": tx_hash,
                    "raw": raw,
                    "tx_type": 0 if receipt.reason is Reason.DECODE_ERROR else raw[0],  # 0: no type
                    "sender": receipt.sender,
                    "nonce": tx_nonce(raw) if len(raw) >= 9 else 0,
                    "status": status,
                    "received_at": now,
                    "block_number": number,
                    "executed_at": now,
                    "origin": Origin.FOREIGN,
                    **fields,
                }
            )
        if receipt.success and raw[:1] == bytes([TxType.COMMIT_MODEL]):
            commit = decode_tx(raw).tx
            assert isinstance(commit, CommitModel) and receipt.sender is not None
            commitments.append((commit.task_id, receipt.sender))

    pre, post = result.pre_state, result.post_state
    changes = list(post.tree.changes_since(pre.tree))
    steps = [
        {
            "batch_id": batch.index,
            "batch_index": s.index,
            "block_number": number,
            "kind": int(s.kind),
            "state_root": s.state_root,
            "cursor": s.machine.cursor,
            "job_hash": job_hash(s.machine.job),
            "hash": s.hash,
        }
        for s in result.steps
    ]
    timestamp = result.context.timestamp
    row_batch = BatchRow(
        id=batch.index,
        status=BatchState.POSTED,
        timestamp=timestamp,
        first_block=number,
        last_block=number,
        tx_count=len(result.txs),
        data_bytes=len(batch.data),
        deposit_start=batch.deposit_start,
        deposit_count=batch.deposit_count,
        step_count=len(steps),
        prev_root=batch.prev_root,
        post_root=batch.post_root,
        trace_root=batch.trace_root,
        data=batch.data,
        data_hash=batch.data_hash,
        opened_at=now,
        sealed_at=now,
        l1_tx_hash=batch.l1_tx_hash or None,
        l1_block=batch.l1_block,
        gas_used=None,
        posted_at=float(batch.l1_timestamp) if batch.l1_timestamp else now,
        origin=origin,
        proposer=batch.proposer or None,
    )
    block = BlockRow(
        number=number,
        batch_id=batch.index,
        timestamp=timestamp,
        pre_root=batch.prev_root,
        post_root=batch.post_root,
        trace_root=batch.trace_root,
        tx_count=len(result.txs),
        deposit_start=batch.deposit_start,
        deposit_end=batch.deposit_end,
        input_offset=0,
        step_offset=0,
        step_count=len(steps),
        created_at=now,
        exec_seconds=0.0,
    )
    write = BlockWrite(
        block=block,
        new_batch=row_batch,
        batch_update={},
        receipts=receipts,
        leaves=changes,
        undo=[(k, pre.get(k)) for k, _ in changes],
        steps=steps,
        deposit_indices=range(batch.deposit_start, batch.deposit_end),
        commitments=commitments,
        new_txs=new_txs,
        log=SyncLogRow(at=now, kind="adopt", batch_id=batch.index, detail=note),
    )
    return ForeignBlock(write, frozenset(executed), len(new_txs))


def tx_hashes(derived: Derived) -> list[bytes]:
    """The hashes of the batch's txs (to look up which are stored already)."""
    assert derived.result is not None
    return [keccak(raw) for raw in derived.result.txs]
