"""Live delivery under other websocket setups than `tracehouse serve`'s own: a plain uvicorn protocol without
the batched-send extension (one ASGI send per message), and ours with per-message compression negotiated
(frames must then go through the compressor)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from server.ws_protocol import BatchingWebSocketProtocol
from tests.conftest import Tenant
from tests.ws_client import GraphQLWS, until_live

SETUPS = {
    "plain uvicorn": {"ws": "websockets-sansio"},
    "batched, compressed": {"ws": BatchingWebSocketProtocol, "ws_per_message_deflate": True},
}


@pytest.fixture(params=list(SETUPS))
async def ws_server(request: pytest.FixtureRequest, app: Any) -> AsyncIterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, port=port, lifespan="off", log_config=None, **SETUPS[request.param])
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):  # uvicorn.Server offers a flag, not an event, for "listening"
        if server.started:
            break
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_shared_subscription_delivers_every_message_in_order(ws_server: str, tenant: Tenant) -> None:
    document = 'subscription { events(filter: {names: ["fallback.tick"]}) { name payload } }'
    clients = [GraphQLWS(ws_server), GraphQLWS(ws_server)]  # the websockets client offers compression
    for ws in clients:
        await ws.connect({"apiKey": tenant.key})
        await ws.subscribe(document)

    async def marker(token: str) -> None:
        await tenant.http.post("/api/v1/events", json={"eventType": "fallback.tick", "payload": {"marker": token}})

    await until_live(clients, "events", marker)
    response = await tenant.http.post(
        "/api/v1/events", json=[{"eventType": "fallback.tick", "payload": {"n": n}} for n in range(300)]
    )
    assert response.status_code == 200, response.text
    for ws in clients:
        assert [(await ws.data(5.0))["events"]["payload"]["n"] for _ in range(300)] == list(range(300))
        await ws.close()
