"""`service.httpserver`: the concurrency limit answers in the API's JSON error format."""

from __future__ import annotations

import asyncio

import httpx

from service.httpserver import ConcurrencyLimitMiddleware, Message, Receive, Scope, Send


def test_a_request_beyond_the_limit_gets_a_json_503_with_retry_after() -> None:
    release = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await release.wait()
        answer: list[Message] = [
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]},
            {"type": "http.response.body", "body": b"done"},
        ]
        for message in answer:
            await send(message)

    limited = ConcurrencyLimitMiddleware(app, limit=2)

    async def run() -> None:
        transport = httpx.ASGITransport(app=limited)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            held = [asyncio.create_task(client.get("/")) for _ in range(2)]
            while limited.active < 2:
                await asyncio.sleep(0.01)
            refused = await client.get("/")
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "1"
            assert refused.json()["error"]["code"] == "overloaded"
            release.set()
            assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]
            assert limited.active == 0
            assert (await client.get("/")).status_code == 200  # the slots are free again

    asyncio.run(run())
