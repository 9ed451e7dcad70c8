"""Response compression on a 10,000-span trace: what each codec and level costs in CPU and saves in bytes,
the figures server/compression.py's levels were chosen from; then the same query through the real
server with each Accept-Encoding (wire bytes and end-to-end time on loopback).

Run: `.venv/bin/python -m bench.compression`. Prints two markdown tables.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable

import brotli
import httpx
import orjson
import zstandard

from bench.common import BENCH_KEY, median, server, table
from bench.trace_query import FLAT, SPANS, trace_spans
from server.compression import BROTLI_QUALITY, GZIP_LEVEL, ZSTD_LEVEL

RUNS = 5
CODECS: list[tuple[str, list[int], Callable[[bytes, int], bytes]]] = [
    ("gzip", [1, 4, 6, 9], lambda body, level: gzip.compress(body, compresslevel=level, mtime=0)),
    ("zstd", [1, 3, 6, 10], lambda body, level: zstandard.ZstdCompressor(level=level).compress(body)),
    ("br", [1, 4, 6, 9], lambda body, quality: brotli.compress(body, quality=quality)),
]
CHOSEN = {"gzip": GZIP_LEVEL, "zstd": ZSTD_LEVEL, "br": BROTLI_QUALITY}


def timed(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return median(times) * 1000


def main() -> None:
    with server() as proc, httpx.Client(base_url=proc.url, headers={"X-API-Key": BENCH_KEY}, timeout=120) as http:
        spans = trace_spans("big")
        log = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }"
        for i in range(0, SPANS, 2_000):
            http.post("/graphql", json={"query": log, "variables": {"s": spans[i : i + 2_000]}}).raise_for_status()
        request = {"query": FLAT, "variables": {"id": "big"}}
        body = http.post("/graphql", json=request, headers={"Accept-Encoding": "identity"}).content
        assert len(orjson.loads(body)["data"]["execution"]["spans"]["edges"]) == SPANS

        rows: list[list[object]] = [["identity", "-", f"{len(body):,}", "1.0", "0"]]
        for name, levels, compress in CODECS:
            for level in levels:
                out = compress(body, level)
                ms = timed(lambda compress=compress, level=level: compress(body, level))
                chosen = " (chosen)" if CHOSEN[name] == level else ""
                rows.append([name, f"{level}{chosen}", f"{len(out):,}", f"{len(body) / len(out):.1f}", f"{ms:.0f}"])
        table(f"Compressing one {len(body):,}-byte response (10k-span trace, flat), median of {RUNS}",
              ["codec", "level", "bytes", "ratio", "ms"], rows)  # fmt: skip

        rows = []
        for encoding in ("identity", "gzip", "br", "zstd"):
            wire = 0

            def fetch(encoding: str = encoding) -> None:
                nonlocal wire
                with http.stream("POST", "/graphql", json=request, headers={"Accept-Encoding": encoding}) as r:
                    r.raise_for_status()
                    raw = b"".join(r.iter_raw())
                    assert r.headers.get("content-encoding", "identity") == encoding, r.headers
                    wire = len(raw)

            ms = timed(fetch)
            rows.append([encoding, f"{wire:,}", f"{ms:.0f}"])
        table(f"Through the server (loopback, median of {RUNS})", ["Accept-Encoding", "wire bytes", "ms"], rows)


if __name__ == "__main__":
    main()
