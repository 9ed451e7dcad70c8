"""Starlette internals Tracehouse builds on: a WebSocket's raw ASGI `send`, which admits the server's
`tracehouse.websocket.send_many` extension message (WebSocket.send admits only standard messages)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from adapters import UnsupportedVersion, require

VERSION = require("starlette", ">=1.10,<1.11")

from starlette.websockets import WebSocket, WebSocketDisconnect  # noqa: E402

if "self._send = send" not in __import__("inspect").getsource(WebSocket.__init__):
    raise UnsupportedVersion("starlette's WebSocket no longer keeps the raw ASGI send as `_send`")


def raw_send(websocket: Any) -> Callable[[dict[str, Any]], Awaitable[None]]:
    send: Callable[[dict[str, Any]], Awaitable[None]] = websocket._send
    return send


__all__ = ["VERSION", "WebSocketDisconnect", "raw_send"]
