"""Dependencies of the routes, as `Annotated` aliases (async: they only read `app.state`)."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from verifier.node import VerifierNode


async def get_node(request: Request) -> VerifierNode:
    return cast(VerifierNode, request.app.state.node)


NodeDep = Annotated[VerifierNode, Depends(get_node)]
