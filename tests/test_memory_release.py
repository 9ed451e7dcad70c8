"""What keeps the server's memory from growing with big reads (bench/memory.py measures how much):

- the records an operation's dataloaders loaded are freed when the operation ends, by reference counting,
  without waiting for the cyclic garbage collector (graph/release_loaders.py);
- in a real `tracehouse serve` process, a response above TRACEHOUSE_TRIM_AFTER_RESPONSE_BYTES is followed by
  a malloc trim (server/memory_trim.py), counted on /metrics; a smaller one is not.
"""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path
from typing import Any

import httpx

from adapters import glibc_malloc
from storage.clickhouse.spans import SpanRecord
from tests.conftest import Tenant
from tests.process import ServerProcess

LOG_SPANS = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }"
TRACE = "query($id: ID!) { execution(id: $id) { spans(first: 500) { edges { node { id name inputs } } } } }"
METRICS_TOKEN = "th_memory_metrics"


def _spans(execution_id: str, n: int) -> list[dict[str, Any]]:
    return [
        {"id": f"s{i}", "executionId": execution_id, "parentId": f"s{i - 1}" if i else None, "name": f"step-{i}",
         "startTime": f"2024-01-01T00:00:{i % 60:02d}Z", "inputs": {"text": "x" * 200}}
        for i in range(n)
    ]  # fmt: skip


def _live_span_records() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, SpanRecord))


async def test_a_trace_read_frees_its_records_without_the_cyclic_collector(tenant: Tenant) -> None:
    await tenant.gql_data(LOG_SPANS, {"s": _spans("mem-trace", 300)})
    gc.collect()
    before = _live_span_records()
    gc.disable()  # what is freed now is freed by reference counting alone
    try:
        data = await tenant.gql_data(TRACE, {"id": "mem-trace"})
        assert len(data["execution"]["spans"]["edges"]) == 300
        del data
        # Callbacks the operation scheduled (task wake-ups holding finished futures) run, and the read's worker
        # thread drops its concurrent future (which holds the records it converted) when it gets the CPU again:
        # wait for that with a deadline, the cyclic collector still off.
        deadline = time.monotonic() + 10
        while (live := _live_span_records()) != before:
            assert time.monotonic() < deadline, f"{live - before} span records outlived the operation"
            await asyncio.sleep(0.01)
    finally:
        gc.enable()


def test_malloc_trim_is_available_on_this_glibc() -> None:
    trim = glibc_malloc.load()  # the machines Tracehouse runs on are glibc; elsewhere load() refuses loudly
    assert isinstance(trim(), bool)


def _trims(client: httpx.Client) -> float:
    text = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    (line,) = [line for line in text.splitlines() if line.startswith("tracehouse_malloc_trims_total ")]
    return float(line.split()[1])


def test_a_served_big_response_is_followed_by_a_malloc_trim(tmp_path: Path) -> None:
    server = ServerProcess(
        tmp_path / "data", "th_memory_key",
        {"TRACEHOUSE_METRICS_TOKEN": METRICS_TOKEN, "TRACEHOUSE_TRIM_AFTER_RESPONSE_BYTES": "50000"},
    )  # fmt: skip
    server.start()
    try:
        with server.client() as client:
            body = client.post("/graphql", json={"query": LOG_SPANS, "variables": {"s": _spans("big", 400)}}).json()
            assert body["data"]["logSpans"]["count"] == 400, body
            small = client.post("/graphql", json={"query": "{ __typename }"})
            assert len(small.content) < 50_000
            assert _trims(client) == 0
            big = client.post("/graphql", json={"query": TRACE, "variables": {"id": "big"}})
            assert len(big.content) > 50_000 and b'"errors"' not in big.content
            deadline = time.monotonic() + 30
            while _trims(client) < 1:
                assert time.monotonic() < deadline, "no malloc trim followed a big response"
                time.sleep(0.05)
    finally:
        server.stop()
