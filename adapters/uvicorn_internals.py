"""uvicorn internals Tracehouse builds on: the websockets-sansio protocol class that server/ws_protocol.py
extends with a batched send (its `conn`, `transport`, `scope`, `writable`, handshake and close state) and
the exception it raises for a peer that went away."""

from __future__ import annotations

from adapters import require, require_attributes

VERSION = require("uvicorn", ">=0.54,<0.55")

from uvicorn.protocols.utils import ClientDisconnected  # noqa: E402
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol  # noqa: E402

require_attributes(WebSocketsSansIOProtocol, "handle_connect", "send", "data_received", "connection_lost")

__all__ = ["VERSION", "ClientDisconnected", "WebSocketsSansIOProtocol"]
