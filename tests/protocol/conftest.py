"""Fixtures of the protocol tests: `h`, a fresh `Harness` (six funded wallets, a clock) a test."""

from __future__ import annotations

import pytest

from tests.support.harness import Harness


@pytest.fixture
def h() -> Harness:
    return Harness()
