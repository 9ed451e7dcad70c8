"""A lean HTTP/1.1 load generator on asyncio streams (keep-alive, pre-encoded bodies).

httpx costs more CPU per request than the server does on this 2-core machine, which would measure the
client; this sends requests with next to no client overhead.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import orjson


class StatusError(RuntimeError):
    pass


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, body: bytes
) -> tuple[int, bytes]:
    writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
    status_line = await reader.readline()
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def post_all(
    url: str,
    path: str,
    key: str,
    bodies: list[bytes],
    concurrency: int,
    check_graphql: bool = False,
    content_type: str = "application/json",
) -> list[float]:
    """POST every body with `concurrency` keep-alive connections; returns per-request latencies (s)."""
    parts = urlsplit(url)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.hostname}\r\nX-API-Key: {key}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: "
    ).encode()
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while not queue.empty():
                body = queue.get_nowait()
                start = time.perf_counter()
                status, payload = await _request(reader, writer, head, body)
                latencies.append(time.perf_counter() - start)
                if status != 200 or (check_graphql and b'"errors"' in payload):
                    raise StatusError(f"{path}: {status} {payload[:300]!r}")
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def dumps(value: object) -> bytes:
    return orjson.dumps(value)
