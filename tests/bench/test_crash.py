"""The crash harness's checks can fail: an append history that skips an index or posts a batch twice,
a killed process whose child outlives it, a file a role leaves behind. (The harness itself runs in
its `--quick` size in tests/bench/test_quick.py.)"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from bench.crash.checks import leftover_files, orphans
from bench.crash.harness import CYCLE, DEVNET_EVERY, plan
from l1_contracts.bindings.rollup import BatchAppended, BatchDeleted
from mlrollup.processes import Roles, alive
from mlrollup.replay import ReplayError, append_history

GENESIS = b"\x00" * 32


def appended(index: int, block: int, prev: bytes, post: bytes, data: bytes) -> BatchAppended:
    return BatchAppended(
        index=index,
        proposer="0x" + "11" * 20,
        data_hash=data,
        prev_root=prev,
        post_root=post,
        trace_root=b"\x07" * 32,
        deposit_count=0,
        deposit_rolling_hash=b"\x00" * 32,
        l2_timestamp=1,
        l1_timestamp=1,
        tx_count=1,
        tx_root=b"\x00" * 32,
        block_number=block,
        tx_hash=bytes([block]) * 32,
        log_index=0,
    )


def root(n: int) -> bytes:
    return bytes([n]) * 32


def test_an_honest_history_with_a_rollback_passes() -> None:
    events: list[BatchAppended | BatchDeleted] = [
        appended(0, 1, GENESIS, root(1), b"a" * 32),
        appended(1, 2, root(1), root(2), b"b" * 32),
        BatchDeleted(1, root(2), 3, b"\x03" * 32),
        appended(1, 4, root(1), root(3), b"c" * 32),  # the same index again after the deletion
    ]
    history = append_history(events, GENESIS)
    assert (history.appends, history.deleted, history.live) == (3, 1, 2)


def test_a_skipped_index_is_found() -> None:
    events = [appended(0, 1, GENESIS, root(1), b"a" * 32), appended(2, 2, root(1), root(2), b"b" * 32)]
    with pytest.raises(ReplayError, match="skipped"):
        append_history(events, GENESIS)


def test_a_batch_posted_twice_is_found() -> None:
    # the same data again on top of itself: a batcher that lost its receipt and posted once more
    events = [appended(0, 1, GENESIS, root(1), b"a" * 32), appended(1, 2, root(1), root(1), b"a" * 32)]
    with pytest.raises(ReplayError, match="posted twice"):
        append_history(events, GENESIS)


def test_an_append_off_the_chain_is_found() -> None:
    events = [appended(0, 1, GENESIS, root(1), b"a" * 32), appended(1, 2, root(9), root(2), b"b" * 32)]
    with pytest.raises(ReplayError, match="does not build"):
        append_history(events, GENESIS)


def test_a_child_that_outlives_its_killed_parent_is_found_and_ended(tmp_path: Path) -> None:
    # a parent whose child ignores the parent's death, as an executor process busy with a block
    script = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    roles = Roles(tmp_path)
    parent = roles.start_command("parent", [sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 20
        while "started" not in parent.output():
            assert time.monotonic() < deadline, parent.output()
            time.sleep(0.05)
        descendants = parent.kill()
        assert parent.popen.returncode == -signal.SIGKILL
        assert len(descendants) == 1
        count, _seconds = orphans(descendants, grace_s=0.5)
        assert count == 1  # it was still running after the kill
        assert not alive(descendants)  # and the check ended it
    finally:
        roles.stop_all()


def test_files_left_beside_the_databases_are_found(tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    for name in ("sequencer.db", "sequencer.db-wal", "verifier.db-shm", "deployments", "logs"):
        (tmp_path / name).touch()
    assert leftover_files(tmp_path, tmpdir) == []
    (tmpdir / "tmpab12cd").touch()
    (tmp_path / "sequencer.db.lock").touch()
    problems = leftover_files(tmp_path, tmpdir)
    assert any("TMPDIR" in p and "tmpab12cd" in p for p in problems), problems
    assert any("sequencer.db.lock" in p for p in problems), problems


def test_the_long_run_plan_has_every_point_and_a_devnet_kill() -> None:
    points = plan(50, quick=False)
    assert len(points) == 50
    assert set(CYCLE) <= set(points)
    assert points.count(("devnet", "anytime")) == 50 // DEVNET_EVERY
