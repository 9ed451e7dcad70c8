"""Subscriber side of bench/live.py: N websocket subscriptions in one process; prints latencies as JSON.

The subscribers speak graphql-transport-ws over picows, a websocket client whose frame parsing is compiled:
100 subscribers at 1,000 updates/s are 100,000 messages/s, and a pure-Python client parsing them on the
same two cores as the server would measure its own backlog rather than the server's delivery.

Usage: python -m bench.live_subscribers URL KEY EXECUTION_ID N SECONDS [MODE]
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime

import orjson
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

QUERY = "subscription($id: ID!) { executionUpdates(executionId: $id) { cursor event { timestamp } } }"
MODES = {
    "shared": QUERY,  # every subscriber the same document: one shared stream
    "existing": QUERY.replace("executionId: $id", "executionId: $id, includeExisting: true"),  # late ones join
    "tree": QUERY.replace("cursor event", "cursor span { id status parent { id } children { id } } event"),
    "distinct": QUERY,  # aliased per subscriber: no two share a stream
}


def query_for(mode: str, n: int) -> str:
    if mode not in MODES:
        raise SystemExit(f"unknown mode {mode!r}: one of {', '.join(MODES)}")
    return MODES[mode].replace("executionUpdates(", f"u{n}: executionUpdates(") if mode == "distinct" else MODES[mode]


_NEXT = b'"type":"next"'
_STAMP = b'"timestamp":"'


class Subscriber(WSListener):
    def __init__(self, key: str, execution_id: str, query: str, latencies: list[float], errors: list[str]) -> None:
        self.key, self.execution_id, self.query = key, execution_id, query
        self.latencies, self.errors = latencies, errors
        self.received = 0
        self.ready = asyncio.get_running_loop().create_future()

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        init = {"type": "connection_init", "payload": {"apiKey": self.key}}
        transport.send(WSMsgType.TEXT, orjson.dumps(init))

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            self.errors.append(f"closed {frame.get_close_code()} {frame.get_close_message()!r}")
            transport.disconnect()
            return
        if frame.msg_type != WSMsgType.TEXT:
            return
        raw = frame.get_payload_as_bytes()
        at = raw.find(_STAMP)
        # a lean client: find the timestamp instead of parsing every message
        if at >= 0 and raw.find(_NEXT, 0, 60) >= 0 and raw.find(b'"errors"') < 0:
            end = raw.index(b'"', at + 13)
            sent = datetime.fromisoformat(raw[at + 13 : end].decode())
            self.latencies.append(time.time() - sent.timestamp())
            self.received += 1
            return
        if b'"connection_ack"' in raw:
            payload = {"query": self.query, "variables": {"id": self.execution_id}}
            transport.send(WSMsgType.TEXT, orjson.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            self.ready.set_result(None)
            return
        self.errors.append(raw[:300].decode(errors="replace"))
        if b'"type":"error"' in raw or b'"type":"complete"' in raw:
            transport.disconnect()


async def main(url: str, key: str, execution_id: str, n: int, seconds: float, mode: str) -> None:
    latencies: list[float] = []
    errors: list[str] = []
    subscribers: list[Subscriber] = []
    for i in range(n):
        query = query_for(mode, i)
        _, listener = await ws_connect(
            lambda query=query: Subscriber(key, execution_id, query, latencies, errors), url,
            extra_headers={"Sec-WebSocket-Protocol": "graphql-transport-ws"}, max_frame_size=64 << 20,
        )  # fmt: skip
        assert isinstance(listener, Subscriber)
        subscribers.append(listener)
    await asyncio.gather(*(s.ready for s in subscribers))
    print("READY", flush=True)
    await asyncio.sleep(seconds)
    for s in subscribers:
        s.transport.disconnect()
    counts = [s.received for s in subscribers]
    print(orjson.dumps({"latencies": latencies, "counts": counts, "errors": errors[:5]}).decode(), flush=True)


if __name__ == "__main__":
    url, key, execution_id, n, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    mode = sys.argv[6] if len(sys.argv) > 6 else "shared"
    uvloop.run(main(url.replace("http://", "ws://") + "/graphql", key, execution_id, n, seconds, mode))
