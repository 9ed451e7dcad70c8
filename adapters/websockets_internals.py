"""websockets' sans-I/O connection as uvicorn's protocol holds it (server/ws_protocol.py writes frames
through it, and reads its state)."""

from __future__ import annotations

from adapters import require, require_attributes

VERSION = require("websockets", ">=15,<18")

from websockets.protocol import Protocol, State  # noqa: E402

require_attributes(Protocol, "send_text", "data_to_send", "state")
require_attributes(State, "OPEN")

__all__ = ["VERSION", "State"]
