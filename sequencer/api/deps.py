"""Dependencies of the routes, as `Annotated` aliases. They are `async` because they only read
`app.state`: FastAPI would run a plain `def` dependency on the thread pool, a hop per request."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from sequencer.builder import BlockBuilder
from sequencer.core.config import Settings
from sequencer.core.errors import api_error
from sequencer.node import Sequencer


async def get_sequencer(request: Request) -> Sequencer:
    node = getattr(request.app.state, "sequencer", None)
    if node is None or not node.started:
        raise api_error("not_ready", "the sequencer is starting")
    return cast(Sequencer, node)


async def get_builder(request: Request) -> BlockBuilder:
    return cast(BlockBuilder, request.app.state.builder)


async def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


SequencerDep = Annotated[Sequencer, Depends(get_sequencer)]
BuilderDep = Annotated[BlockBuilder, Depends(get_builder)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
