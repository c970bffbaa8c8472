"""The verifier's storage on SQLite and PostgreSQL: migrations, verdicts, disputes, payouts, the meta."""

from __future__ import annotations

import pytest

from protocol.derive import Derived, PostedBatch, Verdict
from protocol.hashing import keccak
from protocol.state import State
from protocol.transition import BatchContext, apply_batch
from tests.support.databases import check_migrating_together, check_migrations
from tests.support.domain import DOMAIN
from tests.support.fees import FEES
from verifier.core.errors import StartupError
from verifier.db.migrate import MIGRATIONS, current_revision, head_revision, schema_differences, upgrade_head
from verifier.db.models import BatchState, DisputePhase, Outcome
from verifier.db.session import Database
from verifier.db.store import Store

ROLLUP = "0x" + "ab" * 20


def store_at(url: str) -> Store:
    store = Store(Database.connect(url))
    store.migrate()
    return store


def posted(index: int, tag: bytes = b"") -> PostedBatch:
    return PostedBatch(
        index=index,
        data=b"",
        data_hash=keccak(b"data" + tag),
        prev_root=keccak(b"prev" + tag),
        post_root=keccak(b"post" + tag),
        trace_root=keccak(b"trace" + tag),
        deposit_start=0,
        deposit_end=2**40,
        proposer="0x" + "11" * 20,
        l1_block=7 + index,
        l1_tx_hash=keccak(b"tx" + bytes([index]) + tag),
        l1_timestamp=1_800_000_000,
    )


def test_migrations_match_the_models(db_url: str) -> None:
    check_migrations(db_url, MIGRATIONS, "0001")


def test_processes_starting_together_migrate_once(db_url: str) -> None:
    check_migrating_together(db_url, MIGRATIONS, lambda db: Store(db).migrate())


def test_a_database_shared_with_the_sequencer(db_url: str) -> None:
    """docker compose may point both roles at one PostgreSQL database: their tables and Alembic
    version tables are apart, and each migrates and checks its own schema only."""
    from sequencer.db import migrate as sequencer_migrate

    db = Database.connect(db_url)
    try:
        sequencer_migrate.upgrade_head(db.engine)
        upgrade_head(db.engine)
        assert current_revision(db.engine) == head_revision()
        assert sequencer_migrate.current_revision(db.engine) == sequencer_migrate.head_revision()
        assert schema_differences(db.engine) == []
    finally:
        db.dispose()


def test_the_database_belongs_to_one_rollup(db_url: str) -> None:
    store = store_at(db_url)
    try:
        store.check_deployment(31337, ROLLUP)
        store.check_deployment(31337, ROLLUP)  # the same again: fine
        with pytest.raises(StartupError, match="--database-url"):
            store.check_deployment(31337, "0x" + "cd" * 20)
        with pytest.raises(StartupError, match="chain 31337"):
            store.check_deployment(1, ROLLUP)
        assert store.scanned_block() is None
        store.set_scanned_block(12)
        store.set_scanned_block(15)
        assert store.scanned_block() == 15
    finally:
        store.db.dispose()


def test_verdicts_are_recorded_once_and_follow_l1(db_url: str) -> None:
    store = store_at(db_url)
    try:
        result = apply_batch(State(), [], [b"\x01"], BatchContext(DOMAIN, FEES, 1_000))
        valid = Derived(posted(0), Verdict.VALID, result)
        wrong = Derived(posted(1), Verdict.UNDECODABLE, None, "the batch data does not decode")
        assert store.record_verdict(valid) and store.record_verdict(wrong)
        assert not store.record_verdict(valid)  # a restart derives it again
        rows = store.batches(-1, 10)
        assert [(r.batch_index, r.verdict, r.status) for r in rows] == [
            (0, "valid", BatchState.LIVE),
            (1, "undecodable", BatchState.LIVE),
        ]
        assert rows[0].honest_post_root == result.post_root and rows[0].step_count == len(result.steps)
        assert rows[1].honest_post_root is None and rows[1].deposit_end == 2**40
        assert store.verdict_counts() == {"valid": 1, "undecodable": 1}
        assert [r.batch_index for r in store.batches(-1, 10, ["undecodable"])] == [1]
        assert [r.batch_index for r in store.batches(rows[0].id, 10)] == [1]

        store.mark_deleted(1)
        again = Derived(posted(1, b"again"), Verdict.VALID, result)  # index 1 appended again
        store.record_verdict(again)
        store.mark_finalized(1)
        rows = store.batches(-1, 10)
        assert [(r.batch_index, r.status) for r in rows] == [
            (0, BatchState.FINALIZED),
            (1, BatchState.DELETED),
            (1, BatchState.LIVE),
        ]
        latest = store.latest_batch()
        assert latest is not None and latest.l1_tx_hash == again.batch.l1_tx_hash
        store.forget_live()  # a reorg: live rows are void until derived again
        assert store.batch_by_tx(again.batch.l1_tx_hash).status == BatchState.DELETED  # type: ignore[union-attr]
        assert store.batch_by_tx(valid.batch.l1_tx_hash).status == BatchState.FINALIZED  # type: ignore[union-attr]
    finally:
        store.db.dispose()


def test_disputes_gas_and_payouts(db_url: str) -> None:
    store = store_at(db_url)
    try:
        tx = keccak(b"batch tx")
        big = 2**200 + 1  # wei amounts are exact beyond any SQL integer
        d = store.open_dispute(
            batch_index=3, batch_tx_hash=tx, verdict="wrong_roots", ours=True, phase=DisputePhase.CHALLENGING
        )
        assert store.unresolved_disputes()[0].id == d.id and store.dispute_counts() == {"open": 1}
        store.update_dispute(
            d.id, phase=DisputePhase.AWAITING_REVEAL, challenge_tx=keccak(b"c"), challenge_gas=54_000
        )
        store.update_dispute(
            d.id,
            phase=DisputePhase.RESOLVED,
            outcome=Outcome.WON,
            proof_tx=keccak(b"p"),
            proof_gas=176_000,
            payout=big,
            slashed=10**18,
        )
        other = store.open_dispute(
            batch_index=4, batch_tx_hash=keccak(b"x"), verdict="wrong_roots", ours=False, phase="resolved"
        )
        store.update_dispute(other.id, outcome=Outcome.MISSED)
        assert store.unresolved_disputes() == []
        assert store.dispute_counts() == {"won": 1, "missed": 1}
        assert [x.id for x in store.disputes(-1, 10, ["won"])] == [d.id]
        store.record_payout(keccak(b"w"), big, 29_853)
        row = store.dispute(d.id)
        assert row is not None and row.payout == big and row.withdraw_tx == keccak(b"w")
        assert row.withdraw_gas == 29_853 and row.note == ""
        missed = store.dispute(other.id)
        assert missed is not None and missed.withdraw_tx is None  # it paid nothing
        assert store.payouts_total() == big
        assert store.gas_spent() == {"challenge": 54_000, "proof": 176_000, "timeout": 0, "withdraw": 29_853}
        assert [x.batch_index for x in store.disputes_for(tx)] == [3]
        store.delete_dispute(other.id)
        assert store.dispute(other.id) is None
    finally:
        store.db.dispose()
