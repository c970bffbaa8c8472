"""API fixtures: a client on an app whose blocks are built by the test (`tick`)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from sequencer.builder import BlockBuilder
from sequencer.node import Sequencer
from tests.sequencer.helpers import fund
from tests.support.wallets import Wallet


class Chain:
    """The app's sequencer and builder, and funded wallets."""

    def __init__(self, app: FastAPI, wallets: list[Wallet]) -> None:
        self.node: Sequencer = app.state.sequencer
        self.builder: BlockBuilder = app.state.builder
        self.wallets = wallets

    def tick(self) -> None:
        assert self.builder.tick() is not None


@pytest.fixture
def chain(client: object, app: FastAPI, wallets: list[Wallet]) -> Chain:
    c = Chain(app, wallets)
    fund(c.node, c.builder, wallets[:4])
    return c
