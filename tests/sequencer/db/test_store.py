"""Storage on SQLite and PostgreSQL: migrations, crash-consistent blocks, restart without replay, rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from protocol import params
from protocol.deposits import Deposit
from protocol.hashing import keccak
from protocol.state import State
from protocol.txs import Transfer, Withdraw
from sequencer.builder import BlockBuilder
from sequencer.core.errors import SequencerError, StartupError
from sequencer.db.migrate import MIGRATIONS
from sequencer.db.models import BatchState, DepositRow, LeafRow, TxStatus
from sequencer.db.session import Database
from sequencer.db.store import Store
from sequencer.l1 import L1Deposit, PostedBatch
from sequencer.mempool import Submission
from sequencer.node import Sequencer
from tests.sequencer.helpers import FakeClock, fund, make_settings, replay_from_batches
from tests.support.databases import check_migrating_together, check_migrations
from tests.support.fees import FEE_PRICE
from tests.support.wallets import ETH, Wallet


def test_migrations_match_the_models(db_url: str) -> None:
    check_migrations(db_url, MIGRATIONS, "0004")


def test_processes_starting_together_migrate_once(db_url: str) -> None:
    """A sequencer and a batcher starting on one fresh database both come up (no "database is
    locked"): one migrates, the others wait and find the schema there."""
    check_migrating_together(db_url, MIGRATIONS, lambda db: Store(db).migrate())


def test_bytes_and_u128_are_exact(db_url: str) -> None:
    db = Database.connect(db_url)
    store = Store(db)
    store.migrate()
    try:
        leaves = [(b"\x00" * 31 + b"\x01", b"\x00\x00"), (b"\xff" * 32, bytes(range(256)) * 4)]
        with db.write() as s, s.begin():
            store._upsert_leaves(s, leaves)
            store._upsert_leaves(s, [(leaves[0][0], b"\x00")])  # an update of an existing key
        assert dict(store.iter_leaves()) == {leaves[0][0]: b"\x00", leaves[1][0]: leaves[1][1]}
        big = params.MAX_AMOUNT
        store.add_deposits([L1Deposit(Deposit(0, b"\x00" * 19 + b"\x07", big), 3, b"\x01" * 32)], 1.0)
        (row,) = store.deposits_from(0, 5)
        assert (row.amount, row.recipient, row.l1_tx_hash) == (big, b"\x00" * 19 + b"\x07", b"\x01" * 32)
    finally:
        db.dispose()


def test_restart_restores_state_mempool_and_batches(db_url: str, wallets: list[Wallet]) -> None:
    clock = FakeClock()
    settings = make_settings(db_url)
    node = Sequencer(settings, clock=clock)
    node.start()
    builder = BlockBuilder(node)
    a, b = wallets[0], wallets[1]
    fund(node, builder, [a, b])
    node.submit(
        [
            Submission(a.sign(lambda n: Transfer(n, b.address, 3 * ETH, max_fee_price=FEE_PRICE)))
            for _ in range(3)
        ],
        listed=True,
    )
    node.submit([Submission(b.sign(lambda n: Withdraw(n, b"\x09" * 20, ETH, max_fee_price=FEE_PRICE)))])
    builder.tick()
    builder.seal()
    node.record_posted(PostedBatch(0, b"\xaa" * 32, 7, 123_456))
    node.record_posted(PostedBatch(1, b"\xbb" * 32, 8, 100_000))
    node.set_batch_status(0, BatchState.FINAL)
    pending = [a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE)) for _ in range(2)]
    node.submit([Submission(r) for r in pending], listed=True)  # acknowledged, not in a block
    root, height = node.head.root, node.height
    node.close()

    again = Sequencer(settings, clock=clock)
    again.start()
    try:
        assert (again.head.root, again.height) == (root, height)
        assert [t.raw for t in again.mempool.txs] == pending
        assert again.mempool.state.account(a.address).nonce == 5
        assert again.next_seq == 7 and again.next_batch_id == 2 and again.open_batch is None
        batch = again.store.batch(1)
        assert batch is not None and batch.status == BatchState.POSTED and batch.gas_used == 100_000
        assert again.state_at_batch(1).root == root
        assert replay_from_batches(again.store).root == root
        withdrawal = again.head.withdrawal(0)
        assert withdrawal is not None and withdrawal.amount == ETH
        builder = BlockBuilder(again)
        built = builder.tick()
        assert built is not None and built.tx_count == 2
        assert all(again.store.tx(keccak(r)).status == TxStatus.EXECUTED for r in pending)  # type: ignore[union-attr]
        assert again.metrics.l1_gas_spent._value.get() == 0  # counted by the process that posted
    finally:
        again.close()


def test_rollback_undoes_batches_in_one_transaction_and_survives_a_restart(
    db_url: str, wallets: list[Wallet]
) -> None:
    clock = FakeClock()
    settings = make_settings(db_url)
    node = Sequencer(settings, clock=clock)
    node.start()
    builder = BlockBuilder(node)
    a, b = wallets[0], wallets[1]
    fund(node, builder, [a])  # batch 0
    node.set_batch_status(0, BatchState.FINAL)
    kept = node.head.root
    ran_at = int(clock())
    first = [
        a.sign(lambda n: Transfer(n, b.address, ETH, max_fee_price=FEE_PRICE)),
        a.sign(lambda n: Withdraw(n, b"\x09" * 20, 1, max_fee_price=FEE_PRICE)),
    ]
    node.submit([Submission(r) for r in first], listed=True)
    builder.tick()
    builder.seal()  # batch 1
    node.ingest_deposits([L1Deposit(Deposit(1, b.address, 5), 2)])
    clock.advance(30)
    node.submit([Submission(b.sign(lambda n: Transfer(n, a.address, 2, max_fee_price=FEE_PRICE)))])
    builder.tick()  # batch 2, open: the deposit and a tx
    later = a.sign(lambda n: Transfer(n, b.address, 3, max_fee_price=FEE_PRICE))
    node.submit([Submission(later)])  # pending
    with pytest.raises(SequencerError, match="final"):
        node.store.rollback_to(0, clock(), "no")

    undone = builder.rollback_to(1, "a test")
    assert undone is not None and undone.batch_ids == (1, 2) and undone.blocks == 2
    assert [r.replay_ts for r in undone.requeued] == [ran_at, ran_at, ran_at + 30]
    assert node.head.root == kept and node.next_batch_id == 1 and node.open_batch is None
    assert State.from_leaves(node.store.iter_leaves()).root == kept  # the leaves are batch 0's again
    assert node.store.batch(1) is None and node.store.steps(1) == [] and node.store.undo_keys(2) == set()
    assert node.store.deposits_from(1, 1)[0].block_number is None  # to be consumed again
    assert [keccak(t.raw) for t in node.mempool.txs][-1] == keccak(later)  # after the requeued ones
    assert node.head.withdrawal(0) is None
    (log,) = node.store.sync_log()
    assert (log.kind, log.batch_id, log.detail) == ("rollback", 1, "a test")
    node.close()

    again = Sequencer(settings, clock=clock)  # a restart before anything ran again
    again.start()
    try:
        assert again.head.root == kept and again.next_batch_id == 1
        assert [t.replay_ts for t in again.mempool.txs] == [ran_at, ran_at, ran_at + 30, None]
        builder = BlockBuilder(again)
        while builder.tick() is not None:
            pass
        builder.seal()
        batches = again.store.batches(0, 10)
        assert [(x.id, x.timestamp, x.tx_count) for x in batches] == [
            (1, ran_at, 2),
            (2, ran_at + 30, 1),
            (3, int(clock()), 1),
        ]
        assert replay_from_batches(again.store).root == again.head.root
        assert all(r.replay_ts is None for r in again.store.block_txs(2))
    finally:
        again.close()


def test_another_domain_is_refused(db_url: str) -> None:
    node = Sequencer(make_settings(db_url))
    node.start()
    node.close()
    other = Sequencer(make_settings(db_url, chain_id=1))
    with pytest.raises(StartupError, match="created for chain_id 31337"):
        other.start()
    other.close()


def test_a_corrupt_state_fails_loudly(db_url: str, wallets: list[Wallet]) -> None:
    node = Sequencer(make_settings(db_url))
    node.start()
    fund(node, BlockBuilder(node), wallets[:2])
    with node.db.write() as s, s.begin():
        key = s.scalars(select(LeafRow.key).limit(1)).one()
        s.execute(update(LeafRow).where(LeafRow.key == key).values(value=b"\x00" * 24))
    node.close()
    broken = Sequencer(make_settings(db_url))
    with pytest.raises(StartupError, match="not block 1's post-state root"):
        broken.start()
    broken.close()


def test_deposit_rows_record_their_block(db_url: str, wallets: list[Wallet]) -> None:
    node = Sequencer(make_settings(db_url))
    node.start()
    fund(node, BlockBuilder(node), wallets[:3])
    with node.db.read() as s:
        assert list(s.scalars(select(DepositRow.block_number).order_by(DepositRow.index))) == [1, 1, 1]
    assert State.from_leaves(node.store.iter_leaves()).root == node.head.root
    node.close()
