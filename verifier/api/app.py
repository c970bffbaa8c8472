"""The FastAPI app: composes the settings, the verifier and its loop thread, and the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from service.asgi import JsonLimitsMiddleware
from service.docs import install_docs
from verifier.api.errors import COMMON_RESPONSES, install_error_handlers
from verifier.api.routes import ROUTERS
from verifier.core.config import Settings, load_settings
from verifier.node import VerifierNode

# The API reads no request body; anything larger is refused before it is read (and anything nested
# deeper than a few levels before it is parsed), as by every server of the project.
MAX_BODY_BYTES = 2**16

DESCRIPTION = """
The mlrollup verifier: it follows the L1 Rollup, re-executes every posted batch from L1 data alone
(the `appendBatch` calldata and the Bridge's deposits), and plays the fraud game against the earliest
wrong one: challenge with the bond, wait for the proposer's step hashes (or win when they do not come),
prove the first wrong step (`proveFraud`) or the wrong last leaf (`proveBadLastStep`), withdraw the
payout. Read-only API: `/v1/status`, `/v1/batches`, `/v1/disputes`, `/metrics`, `/readyz`.
"""


def create_app(
    settings: Settings | None = None, *, node: VerifierNode | None = None, run_loop: bool = True
) -> FastAPI:
    """The app. `node` (opened or not) is for tests and embedding; with `run_loop=False` rounds run
    only by calling `app.state.node.tick()`. The loop stops when the app shuts down; a node the app
    built is closed too."""
    settings = settings or (node.settings if node is not None else load_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        verifier = node or VerifierNode(settings)
        await run_in_threadpool(verifier.open)
        app.state.node = verifier
        if run_loop:
            verifier.start()
        try:
            yield
        finally:
            await run_in_threadpool(verifier.stop)
            if node is None:
                verifier.close()

    app = FastAPI(
        title="mlrollup verifier",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # service.docs serves /docs from local files
        redoc_url=None,
        openapi_tags=[
            {"name": "status"},
            {"name": "batches", "description": "every posted batch and its verdict"},
            {"name": "disputes", "description": "challenges, proofs and their outcome"},
            {"name": "health"},
        ],
    )
    app.state.settings = settings
    app.state.run_loop = run_loop
    app.add_middleware(JsonLimitsMiddleware, max_bytes=MAX_BODY_BYTES)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, responses=COMMON_RESPONSES)
    install_docs(app)
    return app
