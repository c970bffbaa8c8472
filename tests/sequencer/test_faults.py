"""The unsafe fault drills (`sequencer.faults`): each kind makes the sequencer commit one batch that
the shared derivation judges WRONG_ROOTS and that `protocol.fraud.find_fraud` proves, at the step
kind the drill names (or as a bad last step for the trace kinds), from the step hashes the batcher
would reveal; it fires once, stays spent across a restart, and after the rollback the same txs
execute honestly. The setting is refused off devnets and logged loudly. (On a real L1, with the
proof sent and the batch deleted: tests/sequencer/test_follower.py.)"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from protocol.derive import Verdict
from protocol.fraud import LastStepProof, StepProof, find_fraud
from protocol.transition import StepKind
from protocol.txs import TxType
from sequencer.builder import BlockBuilder, armed_fault
from sequencer.core.errors import ConfigError
from sequencer.db.models import TxStatus
from sequencer.faults import FaultDrill, FaultKind
from sequencer.node import Sequencer
from tests.sequencer.helpers import FakeClock, derive_stored, make_settings, replay_from_batches, sqlite_url
from tests.sequencer.workload import run_workload

# The tx whose step a TX-kind drill faults.
FAULTED_TX = {
    FaultKind.TRANSFER_BALANCE: TxType.TRANSFER,
    FaultKind.WINNER: TxType.FINALIZE_TASK,
    FaultKind.WITHDRAWAL: TxType.WITHDRAW,
}


def node_with(tmp_path: Path, clock: FakeClock, **settings: object) -> Sequencer:
    node = Sequencer(make_settings(sqlite_url(tmp_path), **settings), clock=clock)
    node.start()
    return node


@pytest.fixture(scope="module")
def honest_root(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The state root the workload ends at without a drill."""
    clock = FakeClock()
    node = node_with(tmp_path_factory.mktemp("honest"), clock)
    try:
        workload = run_workload(node, BlockBuilder(node), clock)
        rows = [node.store.tx(h) for h in workload.acknowledged]
        assert all(r is not None and r.status == TxStatus.EXECUTED for r in rows)
        return node.head.root
    finally:
        node.close()


@pytest.mark.parametrize("kind", list(FaultKind))
def test_each_drill_posts_one_batch_a_fraud_proof_wins_against(
    tmp_path: Path, clock: FakeClock, kind: FaultKind, honest_root: bytes
) -> None:
    node = node_with(tmp_path, clock)
    try:
        drill = FaultDrill(kind, at_batch=1)
        builder = BlockBuilder(node, fault=drill)
        workload = run_workload(node, builder, clock)
        assert drill.spent and node.store.meta(drill.spent_key) is not None

        _, derived = derive_stored(node.store)
        verdicts = [d.verdict for d in derived]
        assert verdicts.count(Verdict.WRONG_ROOTS) == 1, verdicts
        index = verdicts.index(Verdict.WRONG_ROOTS)
        assert verdicts[:index] == [Verdict.VALID] * index
        later = Verdict.VALID if kind.proven_at is None else Verdict.OFF_CHAIN  # the state was honest
        assert verdicts[index + 1 :] == [later] * (len(verdicts) - index - 1)

        wrong = derived[index]
        result = wrong.result
        assert result is not None
        revealed = [bytes(s.hash) for s in node.store.steps(index)]  # what the batcher reveals
        proof = find_fraud(result, revealed, wrong.batch.post_root)
        if kind.proven_at is None:
            assert isinstance(proof, LastStepProof) and proof.last_leaf != proof.expected_leaf
        else:
            assert isinstance(proof, StepProof), proof
            step = result.steps[proof.step_index]
            assert step.kind is kind.proven_at
            if kind in FAULTED_TX:
                assert step.input_index is not None
                tx = result.input_at(step.input_index)
                assert isinstance(tx, bytes) and tx[0] == FAULTED_TX[kind]
            if kind is FaultKind.SCORE_MID_JOB:  # neither the first chunk nor the last
                before = result.steps[proof.step_index - 1]
                assert before.kind is StepKind.SCORE_CHUNK and step.machine.job is not None
            if kind is FaultKind.SCORE:  # the job's last chunk, which writes the score
                assert step.machine.job is None

        # L1 deletes it (a proof won), later: the same txs run again, honestly (the drill is spent),
        # each at the time of the batch it ran in, and everything ends as if it had never happened.
        clock.advance(1_000)  # past every deadline of the workload
        assert builder.rollback_to(index, "a fraud proof deleted it") is not None
        while builder.tick() is not None:
            pass
        builder.seal()
        assert replay_from_batches(node.store).root == node.head.root == honest_root
        rows = [node.store.tx(h) for h in workload.acknowledged]
        assert all(r is not None and r.status == TxStatus.EXECUTED and r.replay_ts is None for r in rows)
    finally:
        node.close()


def test_a_drill_fires_once_even_across_a_restart(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    settings = {"unsafe_fault": "trace_last_leaf", "unsafe_fault_at": 1}
    node = node_with(tmp_path, clock, **settings)
    try:
        with caplog.at_level(logging.WARNING, "sequencer.builder"):
            builder = BlockBuilder(node)
        assert "UNSAFE FAULT DRILL ARMED" in caplog.text
        assert builder.fault is not None and builder.fault.kind is FaultKind.TRACE_LAST_LEAF
        with caplog.at_level(logging.WARNING, "sequencer.builder"):
            run_workload(node, builder, clock)
        assert caplog.text.count("UNSAFE FAULT DRILL FIRED") == 1
    finally:
        node.close()
    again = node_with(tmp_path, clock, **settings)
    try:
        drill = armed_fault(again)
        assert drill is not None and drill.spent  # the database says so
        _, derived = derive_stored(again.store)
        assert [d.verdict for d in derived].count(Verdict.WRONG_ROOTS) == 1
    finally:
        again.close()


def test_a_drill_waits_for_a_batch_it_can_fault(tmp_path: Path, clock: FakeClock) -> None:
    node = node_with(tmp_path, clock)
    try:
        drill = FaultDrill(FaultKind.WINNER, at_batch=1)
        run_workload(node, BlockBuilder(node, fault=drill), clock)
        _, derived = derive_stored(node.store)
        assert [d.verdict for d in derived][:3] == [Verdict.VALID] * 3  # funding, then two phases
        assert derived[3].verdict is Verdict.WRONG_ROOTS  # the finalization's batch
    finally:
        node.close()


def test_the_setting_is_refused_off_a_devnet(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="devnets only"):
        make_settings(sqlite_url(tmp_path), chain_id=1, unsafe_fault="score")
    assert (
        make_settings(sqlite_url(tmp_path), chain_id=1337, unsafe_fault="score").unsafe_fault
        is FaultKind.SCORE
    )
    with pytest.raises(ValueError, match="unsafe_fault"):
        make_settings(sqlite_url(tmp_path), unsafe_fault="no_such_fault")


def test_new_txs_are_dry_run_at_now_while_rolled_back_ones_run_at_their_old_time(
    tmp_path: Path, clock: FakeClock
) -> None:
    """After the blocks that re-execute rolled-back txs at their old timestamps, the pending state is
    at the time the next fresh batch will have (about now), not the last replayed one. Found by the
    `score` drill: a FinalizeTask sent just after a rollback, past its task's reveal deadline, was
    dry-run at the old time before the deadline, failed there, and its sender's next nonce was then
    refused as a gap."""
    node = node_with(tmp_path, clock)
    try:
        builder = BlockBuilder(node)
        run_workload(node, builder, clock)
        clock.advance(1_000)
        assert builder.rollback_to(3, "a fraud proof deleted it") is not None
        old = {tx.replay_ts for tx in node.mempool.txs}
        assert None not in old and max(t for t in old if t is not None) < int(clock())
        while builder.tick() is not None:
            if node.mempool.txs and all(tx.replay_ts is None for tx in node.mempool.txs):
                break
        assert all(tx.replay_ts is None for tx in node.mempool.txs)
        ts = node.mempool.ts
        assert ts is not None and ts >= int(clock()) - 1  # the next fresh batch's time, not the replayed one
    finally:
        node.close()
