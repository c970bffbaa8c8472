"""The verifier's start and loop: what it refuses to follow, and failures retried with backoff."""

from __future__ import annotations

import dataclasses
import itertools
import time
from pathlib import Path

import pytest

from l1_contracts.deploy import save
from protocol.hashing import keccak
from tests.l1.game import Game, make_game
from tests.verifier.support import make_node, make_settings
from verifier.core.errors import StartupError
from verifier.node import VerifierNode


def test_a_deployment_of_another_chain_is_refused(game: Game, tmp_path: Path) -> None:
    other = dataclasses.replace(game.deployment, chain_id=game.deployment.chain_id + 1)
    settings = make_settings(game, tmp_path)
    settings = settings.model_copy(update={"deployment_file": save(other, tmp_path / "other")})
    settings._deployment = other
    node = VerifierNode(settings, w3=game.w3)
    try:
        with pytest.raises(StartupError, match="point --l1-rpc-url at that chain"):
            node.connect()
    finally:
        node.close()


def test_no_contract_at_the_address_is_refused(game: Game, tmp_path: Path) -> None:
    node = make_node(game, tmp_path, deployment_file=None, rollup_address="0x" + "12" * 20)
    try:
        with pytest.raises(StartupError, match="no contract at the Rollup address"):
            node.connect()
        node.run()  # a problem retrying cannot fix: the loop stops and says why
        assert node.status.halted is not None and "no contract" in node.status.halted
    finally:
        node.close()


def test_a_custom_genesis_is_refused(tmp_path: Path) -> None:
    game = make_game(genesis_root=keccak(b"another genesis"))
    node = make_node(game, tmp_path)
    try:
        with pytest.raises(StartupError, match="empty genesis state"):
            node.connect()
    finally:
        node.close()


def test_a_database_of_another_rollup_is_refused(game: Game, tmp_path: Path) -> None:
    node = make_node(game, tmp_path)
    try:
        node.connect()
        node.store.set_meta("rollup", "0x" + "ab" * 20)  # as if it had followed another deployment
        with pytest.raises(StartupError, match="belongs to the Rollup 0xabab"):
            node.connect()
    finally:
        node.close()


def test_l1_failures_are_retried_with_backoff(game: Game, tmp_path: Path) -> None:
    node = make_node(game, tmp_path)
    calls = []

    def failing_poll() -> None:
        calls.append(time.monotonic())
        raise ConnectionError("L1 unreachable")

    node.connect()
    assert node.watcher is not None
    node.watcher.poll = failing_poll  # type: ignore[method-assign, assignment]
    node.start()
    try:
        deadline = time.monotonic() + 10
        while node.status.failures < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert node.status.failures >= 3 and node.alive
        assert node.status.last_error == "ConnectionError: L1 unreachable" and not node.status.caught_up
        gaps = [b - a for a, b in itertools.pairwise(calls)]
        assert gaps[1] > gaps[0]  # exponential backoff
    finally:
        node.stop()
        node.close()
    assert not node.alive
