"""A small graphql-transport-ws client over the `websockets` library, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import websockets

PROTOCOL = "graphql-transport-ws"


class GraphQLWS:
    def __init__(self, url: str) -> None:
        self.url = url.replace("http://", "ws://") + "/graphql"
        self.ws: Any = None
        self._ids = itertools.count(1)

    async def connect(self, payload: dict[str, Any] | None, expect_ack: bool = True) -> dict[str, Any] | None:
        self.ws = await websockets.connect(self.url, subprotocols=[PROTOCOL], max_size=None)
        await self.ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        if not expect_ack:
            return None
        message = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
        assert message["type"] == "connection_ack", message
        return message

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        op_id = str(next(self._ids))
        message = {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}}
        await self.ws.send(json.dumps(message))
        return op_id

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The next `next`/`error`/`complete` message (pings answered)."""
        while True:
            frame = await asyncio.wait_for(self.ws.recv(), timeout)
            assert isinstance(frame, str), "graphql-transport-ws messages are text frames"
            message = json.loads(frame)
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            return message

    async def data(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        message = await self.next(timeout)
        assert message["type"] == "next" and "errors" not in message["payload"], message
        return message["payload"]["data"]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
