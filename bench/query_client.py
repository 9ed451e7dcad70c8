"""Runs one GraphQL query N times against a server and prints latencies and response size as JSON.

A separate process, so the client's work does not share the server's interpreter.
Usage: python -m bench.query_client URL KEY N QUERY [VARIABLES_JSON [paged]]
With `paged`, each of the N runs follows one connection page by page (`after` set to the last page's
endCursor until hasNextPage is false; the query selects `pageInfo { hasNextPage endCursor }` before `edges`)
and counts as one latency: the whole walk.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from urllib.parse import urlsplit

import orjson

from bench.loadgen import _request

_PAGE_INFO = re.compile(rb'"pageInfo":\{"hasNextPage":(true|false),"endCursor":("[^"]*"|null)')


async def run(
    url: str, key: str, n: int, query: str, variables: dict[str, object], paged: bool = False
) -> dict[str, object]:
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {parts.hostname}\r\nX-API-Key: {key}\r\n"
        "Content-Type: application/json\r\nContent-Length: "
    ).encode()
    body = orjson.dumps({"query": query, "variables": variables})
    latencies: list[float] = []
    size = 0
    pages = 0
    for _ in range(n):
        start = time.perf_counter()
        after: object = None
        size = pages = 0
        while True:
            if paged:
                body = orjson.dumps({"query": query, "variables": {**variables, "after": after}})
            status, payload = await _request(reader, writer, head, body)
            if status != 200 or payload.startswith(b'{"errors"') or b'"errors":[' in payload[:200]:
                raise RuntimeError(f"{status}: {payload[:500]!r}")
            size += len(payload)
            pages += 1
            info = _PAGE_INFO.search(payload, 0, 2000) if paged else None
            if info is None or info.group(1) == b"false":
                break
            after = orjson.loads(info.group(2))
        latencies.append(time.perf_counter() - start)
    writer.close()
    return {"latencies": latencies, "bytes": size, "pages": pages}


if __name__ == "__main__":
    url, key, n, query = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    variables = orjson.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
    paged = len(sys.argv) > 6 and sys.argv[6] == "paged"
    print(orjson.dumps(asyncio.run(run(url, key, n, query, variables, paged))).decode())
