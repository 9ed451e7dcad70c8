"""A small graphql-transport-ws client over the `websockets` library, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import websockets
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

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


async def until_live(
    clients: list[GraphQLWS], field: str, write: Callable[[str], Awaitable[object]], attempts: int = 20
) -> None:
    """Writes markers until every client's subscription (its only one, to `field`) has delivered the latest:
    from then on each hears every write. `write(token)` stores something the subscriptions match and show the
    token in. A stream delivers in order, so when a client reads the latest marker it has read every earlier
    one: nothing of the warm-up is left to read afterwards."""
    for _ in range(attempts):
        token = f"until-live-{uuid.uuid4().hex}"
        await write(token)
        try:
            for ws in clients:
                while token not in json.dumps((await ws.data(2.0))[field]):
                    pass
            return
        except TimeoutError:
            continue  # a subscription not yet listening when the marker was written: write another
    raise AssertionError(f"a {field} subscription never went live")


class StalledSubscriber:
    """A raw socket that completes the graphql-transport-ws handshake and one subscription, then reads
    nothing until `read_all`: with a small receive buffer the server's writes to it back up at once.

    Blocking socket calls on purpose: it stands for a client that stopped reading, not one that is slow."""

    def __init__(self, url: str, api_key: str, query: str, variables: dict[str, Any] | None = None,
                 rcvbuf: int = 4096) -> None:  # fmt: skip
        host, _, port = url.removeprefix("http://").partition(":")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: sets the window
        self.sock.settimeout(10)
        self._frames: list[dict[str, Any]] = []
        self.sock.connect((host, int(port)))
        self.proto = ClientProtocol(parse_uri(f"ws://{host}:{port}/graphql"), subprotocols=[Subprotocol(PROTOCOL)],
                                    max_size=None)  # fmt: skip
        self.proto.send_request(self.proto.connect())
        self._flush()
        while self.proto.state is State.CONNECTING:  # the handshake response
            self.proto.receive_data(self.sock.recv(4096))
        assert self.proto.state is State.OPEN, self.proto.handshake_exc
        self._send({"type": "connection_init", "payload": {"apiKey": api_key}})
        ack = self._read_one(time.monotonic() + 10)
        assert ack is not None and ack["type"] == "connection_ack", ack
        self._send({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})

    def _flush(self) -> None:
        for data in self.proto.data_to_send():
            if data:
                with contextlib.suppress(OSError):  # the server closed first: what it sent is still to read
                    self.sock.sendall(data)

    def _send(self, message: dict[str, Any]) -> None:
        self.proto.send_text(json.dumps(message).encode())
        self._flush()

    def _read_one(self, deadline: float) -> dict[str, Any] | None:
        """The next text message, or None once the connection is closed."""
        while not self._pending_frames():
            if self.proto.state is State.CLOSED or time.monotonic() > deadline:
                return None
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(1 << 16)
            except (TimeoutError, ConnectionError):
                data = b""
            if data:
                self.proto.receive_data(data)
            else:
                self.proto.receive_eof()
            self._flush()  # pongs and the closing handshake
        return self._frames.pop(0)

    def _pending_frames(self) -> bool:
        for event in self.proto.events_received():
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self._frames.append(json.loads(event.data))
        return bool(self._frames)

    def read_all(self, timeout: float = 30.0) -> tuple[list[dict[str, Any]], bool]:
        """Everything the server sent, until the operation ends or the connection closes, and whether it
        did end (rather than the deadline passing)."""
        deadline = time.monotonic() + timeout
        messages: list[dict[str, Any]] = []
        while (message := self._read_one(deadline)) is not None:
            messages.append(message)
            if message.get("type") in ("complete", "error"):
                return messages, True
        return messages, self.proto.state is State.CLOSED

    def close(self) -> None:
        self.sock.close()
