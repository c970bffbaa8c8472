"""Fixtures of the L1 tests: a devnet served over HTTP from a background thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from l1_contracts.devnet import DevnetConfig, DevnetServer


@pytest.fixture(scope="module")
def devnet_server() -> Iterator[DevnetServer]:
    """A fresh devnet per test module on a free port of 127.0.0.1 (`.url`, `.accounts`, `.devnet`)."""
    with DevnetServer(DevnetConfig(port=0)) as server:
        yield server
