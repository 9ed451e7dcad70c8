"""Response compression on a 10,000-span trace: what each codec and level costs in CPU and saves in bytes,
the figures server/compression.py's levels were chosen from; then the same query through the real
server with each Accept-Encoding (wire bytes and end-to-end time on loopback).

Run: `.venv/bin/python -m bench.compression`. Prints two markdown tables.
"""

from __future__ import annotations

import gzip
import random
import time
from collections.abc import Callable
from typing import Any

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


WORDS = ("the model answered with a summary of the retrieved documents about invoices refunds shipping "
         "policy customer order status error retry tool call search database query result token").split()


def varied_spans(execution_id: str) -> list[dict[str, Any]]:
    """bench/trace_query.py's tree, with texts and numbers that differ per span as real ones do (the same
    300 characters everywhere would compress far better than any real trace)."""
    rng = random.Random(11)
    spans = trace_spans(execution_id)
    for span in spans:
        for field in ("inputs", "outputs"):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 80)))
            span[field] = {"text": words, "id": f"{rng.getrandbits(64):016x}", "score": rng.random()}
        if "usage" in span:
            span["usage"] = {**span["usage"], "inputTokens": rng.randint(10, 4000), "outputTokens": rng.randint(1, 900)}
    return spans


def timed(fn: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> float:
    times = []
    for _ in range(RUNS):
        start = clock()
        fn()
        times.append(clock() - start)
    return median(times) * 1000


def main() -> None:
    with server() as proc, httpx.Client(base_url=proc.url, headers={"X-API-Key": BENCH_KEY}, timeout=120) as http:
        spans = varied_spans("big")
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
                # CPU time, not wall time: on a busy machine the latter measures the neighbours
                ms = timed(lambda compress=compress, level=level: compress(body, level), time.process_time)
                chosen = " (chosen)" if CHOSEN[name] == level else ""
                rows.append([name, f"{level}{chosen}", f"{len(out):,}", f"{len(body) / len(out):.1f}", f"{ms:.0f}"])
        table(f"Compressing one {len(body):,}-byte response (10k-span trace, flat), median of {RUNS}",
              ["codec", "level", "bytes", "ratio", "CPU ms"], rows)  # fmt: skip

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
