"""uvicorn's websockets-sansio protocol plus one ASGI message that writes many text messages at once.

A hundred subscribers of one busy execution receive a hundred thousand messages a second. Standard ASGI
has one `websocket.send` per message, and each goes through the frame writer and one socket write: at
that rate the per-message overhead alone saturates a core. The extension `tracehouse.websocket.send_many`
(advertised in `scope["extensions"]`) takes `{"texts": [bytes, ...]}` (UTF-8 messages) and writes them as
consecutive text frames in one socket write. Apps check for the extension and fall back to
`websocket.send` under any other server.

Like `websocket.send`, it waits while the transport's write buffer is over its high-water mark (the peer
is not reading). The extension's dict carries that state (`writable`, an asyncio.Event), so an app can
give up on a peer that stays there; `"force": True` writes anyway, for a last small message such as the
reason a subscription ends (the buffer holds it for when the peer reads again).
"""

from __future__ import annotations

import struct
from typing import Any

from adapters.uvicorn_internals import ClientDisconnected, WebSocketsSansIOProtocol
from adapters.websockets_internals import State

SEND_MANY = "tracehouse.websocket.send_many"
_TEXT_FIN = 0x81  # FIN bit and the text opcode; server frames are never masked (RFC 6455 §5.1)


def text_frames(texts: list[bytes]) -> bytes:
    out = bytearray()
    for text in texts:
        n = len(text)
        if n < 126:
            out += struct.pack("!BB", _TEXT_FIN, n)
        elif n < 1 << 16:
            out += struct.pack("!BBH", _TEXT_FIN, 126, n)
        else:
            out += struct.pack("!BBQ", _TEXT_FIN, 127, n)
        out += text
    return bytes(out)


class BatchingWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][SEND_MANY] = {"writable": self.writable}

    async def send(self, message: Any) -> None:
        if message["type"] != SEND_MANY:
            await super().send(message)
            return
        if not message.get("force"):
            await self.writable.wait()  # the transport's buffer is over its high-water mark: wait for the peer
        if self.disconnected or self.close_sent or self.conn.state is not State.OPEN:
            raise ClientDisconnected()
        if not self.handshake_complete or self.initial_response is not None:
            raise RuntimeError(f"'{SEND_MANY}' before the websocket was accepted")
        if self.conn.extensions:  # a negotiated extension (compression) transforms frames: let it
            for text in message["texts"]:
                self.conn.send_text(text)
            self.transport.write(b"".join(self.conn.data_to_send()))
        else:
            self.transport.write(text_frames(message["texts"]))
