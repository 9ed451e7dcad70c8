"""Live delivery under a server without Tracehouse's batched-send extension: one ASGI send per message."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from tests.conftest import Tenant
from tests.ws_client import GraphQLWS


@pytest.fixture
async def plain_server(app: Any) -> AsyncIterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, port=port, ws="websockets-sansio", lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):  # uvicorn.Server offers a flag, not an event, for "listening"
        if server.started:
            break
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_shared_subscription_falls_back_to_one_send_per_message(plain_server: str, tenant: Tenant) -> None:
    document = 'subscription { events(filter: {names: ["fallback.tick"]}) { name payload } }'
    clients = [GraphQLWS(plain_server), GraphQLWS(plain_server)]
    for ws in clients:
        await ws.connect({"apiKey": tenant.key})
        await ws.subscribe(document)
    await asyncio.sleep(0.3)
    response = await tenant.http.post(
        "/api/v1/events", json=[{"eventType": "fallback.tick", "payload": {"n": n}} for n in range(300)]
    )
    assert response.status_code == 200, response.text
    for ws in clients:
        assert [(await ws.data(5.0))["events"]["payload"]["n"] for _ in range(300)] == list(range(300))
        await ws.close()
