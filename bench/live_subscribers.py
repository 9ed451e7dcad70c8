"""Subscriber side of bench/live.py: N websocket subscriptions in one process; prints latencies as JSON.

Usage: python -m bench.live_subscribers URL KEY EXECUTION_ID N SECONDS
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime

import orjson
import websockets

QUERY = "subscription($id: ID!) { executionUpdates(executionId: $id) { cursor event { timestamp } } }"


async def subscriber(url: str, key: str, execution_id: str, seconds: float, out: list[float], ready: asyncio.Event,
                     counts: list[int], errors: list[str]) -> None:  # fmt: skip
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_size=None) as ws:
        await ws.send(orjson.dumps({"type": "connection_init", "payload": {"apiKey": key}}).decode())
        await ws.recv()
        payload = {"query": QUERY, "variables": {"id": execution_id}}
        await ws.send(orjson.dumps({"id": "1", "type": "subscribe", "payload": payload}).decode())
        ready.set()
        deadline = time.time() + seconds
        received = 0
        while time.time() < deadline:
            try:
                raw = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.time()))
            except TimeoutError:
                break
            # a lean client: find the timestamp instead of parsing every message, so the client processes
            # (on the same two cores) cost the server as little CPU as possible
            at = raw.find('"timestamp":"')
            if '"type":"next"' not in raw[:40] or at < 0 or '"errors"' in raw:
                errors.append(raw[:300])
                if '"type":"error"' in raw or '"type":"complete"' in raw:
                    break
                continue
            sent = datetime.fromisoformat(raw[at + 13 : raw.index('"', at + 13)])
            out.append(time.time() - sent.timestamp())
            received += 1
        counts.append(received)


async def main(url: str, key: str, execution_id: str, n: int, seconds: float) -> None:
    latencies: list[float] = []
    counts: list[int] = []
    errors: list[str] = []
    readies = [asyncio.Event() for _ in range(n)]
    tasks = [
        asyncio.create_task(subscriber(url, key, execution_id, seconds, latencies, r, counts, errors)) for r in readies
    ]
    await asyncio.gather(*(r.wait() for r in readies))
    print("READY", flush=True)
    await asyncio.gather(*tasks, return_exceptions=True)
    print(orjson.dumps({"latencies": latencies, "counts": counts, "errors": errors[:5]}).decode(), flush=True)


if __name__ == "__main__":
    url, key, execution_id, n, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    asyncio.run(main(url.replace("http://", "ws://") + "/graphql", key, execution_id, n, seconds))
