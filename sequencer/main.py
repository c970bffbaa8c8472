"""The FastAPI app: composes settings, the sequencer, its block builder and the routes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from sequencer.api.errors import count_refused_body, install_error_handlers
from sequencer.api.responses import COMMON_RESPONSES
from sequencer.api.routes import ROUTERS
from sequencer.batcher import Batcher, BatcherConfig
from sequencer.builder import BlockBuilder
from sequencer.core.config import Settings, load_settings
from sequencer.core.errors import error_table_markdown
from sequencer.follower import Follower
from sequencer.l1 import BatchPoster, DepositSource, L1Batches
from sequencer.node import Clock, Sequencer
from service.asgi import JsonLimitsMiddleware
from service.docs import install_docs
from service.httpserver import BodyTimeoutMiddleware

log = logging.getLogger("sequencer")

DESCRIPTION = f"""
The mlrollup sequencer: submit signed L2 transactions, read the L2 state, blocks, batches and proofs.

**Transactions** are EIP-712 typed data signed for this deployment's domain (`GET /v1/info`). Send
one with `POST /v1/txs`, either as `{{"raw": "0x…"}}` (the canonical bytes of docs/spec.md section 3)
or as `{{"type", "message", "signature"}}` (the typed-data message and its 65-byte signature); add
`from` to have a signature for another domain refused as `wrong_domain`. `POST /v1/txs/batch` takes
`{{"txs": [...]}}` **all or nothing**.

**Admission**: each tx is dry-run after every pending tx; one that would fail is refused with a 4xx
naming the reason and nothing is stored. An accepted tx is stored durably *before* the 202 answer:
a crash loses no acknowledged tx. Acceptance means it will be executed, in arrival order, in the
next blocks; its receipt (`GET /v1/txs/{{hash}}?wait=5`) says whether it succeeded (a deadline can
pass in between).

**Following L1**: L1 is the source of truth. When L1 deletes batches (a proven fraud, a reorg), the
sequencer rolls back to L1's last batch and executes the acknowledged txs of the deleted batches
again; when another proposer's valid batch lands, it adopts it and rebuilds its own blocks on top
(an acknowledged tx is never lost; one that became invalid gets a failed receipt with its reason).
Meanwhile it is *catching up*: submissions get a 503 `catching_up` with `Retry-After`, and `/readyz`
says why; reads go on.

**Blocks and batches**: a block is built every block interval (or as soon as a block's worth of txs
is pending); blocks are grouped into batches, which are what goes to L1. All blocks of a batch
execute at the batch's timestamp; L1 deposits enter at the start of a batch.

**Errors** are `{{"error": {{"code", "message", ...}}}}`:

{error_table_markdown()}
"""


def create_app(
    settings: Settings | None = None,
    *,
    sequencer: Sequencer | None = None,
    clock: Clock | None = None,
    run_builder: bool = True,
    deposit_source: DepositSource | None = None,
    poster: BatchPoster | None = None,
    batcher_config: BatcherConfig | None = None,
    l1_batches: Callable[[], L1Batches] | None = None,
) -> FastAPI:
    """The app. `sequencer` (already started or not) and `clock` are for tests and embedding; with
    `run_builder=False` blocks are built only by calling `app.state.builder.tick()`. With a
    `deposit_source` the service follows L1 deposits; with a `poster` it runs the batch posting
    daemon (`sequencer.batcher`) on a thread; with `l1_batches` (which makes the L1 reader) it follows
    the batches L1 holds (`sequencer.follower`) on a thread."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        node = sequencer or Sequencer(settings, clock=clock or time.time)
        if not node.started:
            await run_in_threadpool(node.start)
        builder = BlockBuilder(node)
        app.state.sequencer = node
        app.state.builder = builder
        if run_builder:
            builder.start()
        watcher = None
        if deposit_source is not None:
            watcher = asyncio.create_task(_follow_deposits(node, deposit_source, settings.deposit_poll_s))
        batcher = None
        if poster is not None:
            config = batcher_config or BatcherConfig.from_settings(settings)
            batcher = Batcher(node.store, poster, config, metrics=node.metrics, on_final=node.forget_before)
            batcher.start()
        app.state.batcher = batcher
        l1_follower = None
        if l1_batches is not None:
            l1_follower = Follower(
                node, builder, l1_batches, poll_s=settings.follow_poll_s, proposer=settings.proposer_address
            )
            l1_follower.start()
        app.state.follower = l1_follower
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            if l1_follower is not None:
                await run_in_threadpool(l1_follower.stop)
            if batcher is not None:
                await run_in_threadpool(batcher.stop)
            await run_in_threadpool(builder.stop)
            node.close()

    app = FastAPI(
        title="mlrollup sequencer",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # service.docs serves /docs from local files
        redoc_url=None,
        openapi_tags=[
            {"name": "txs", "description": "submit transactions, read receipts"},
            {"name": "accounts"},
            {"name": "tasks", "description": "training competitions"},
            {"name": "models", "description": "shared models"},
            {"name": "blocks"},
            {"name": "batches", "description": "what is posted to L1"},
            {"name": "state", "description": "roots and Merkle proofs"},
            {"name": "withdrawals"},
            {"name": "health"},
        ],
    )
    app.state.settings = settings
    app.state.run_builder = run_builder
    app.add_middleware(
        JsonLimitsMiddleware,
        max_bytes=settings.max_body_bytes,
        max_depth=settings.max_json_depth,
        on_refused=count_refused_body,
    )
    app.add_middleware(BodyTimeoutMiddleware, timeout_s=settings.request_timeout_s)  # outermost
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, responses=COMMON_RESPONSES)
    install_docs(app)
    return app


async def _follow_deposits(node: Sequencer, source: DepositSource, interval: float) -> None:
    """Poll `source` for new deposits forever; failures are logged and retried."""
    while True:
        try:
            added = await run_in_threadpool(node.poll_deposits, source)
            if added:
                log.info("stored %d new L1 deposits", added)
        except Exception:
            log.exception("polling deposits failed; retrying in %.1fs", interval)
        await asyncio.sleep(interval)
