"""Export: 1,000,000 events (and 200,000 spans) streamed out of a real `tracehouse serve` by
`GET /api/v1/export`, with the server's RSS growth beside the goal (≤ 100 MiB for 1M events) and rows/s.

The rows are written straight into the store (INSERT … SELECT from numbers(), by a separate process while
the server is stopped: chDB opens a store in one process at a time), so the bench measures the export,
not ingest: audit events with ~150-character payloads, and executions of 10 spans with ~300 characters of
inputs and outputs. The server's RSS is sampled every 20 ms while the client reads the stream as fast as
it can; growth is the peak minus the RSS after a warm-up export of one execution.
Run: `make bench` (or `.venv/bin/python -m bench.export [EVENTS] [SPANS]`). Prints a markdown table.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import httpx
import psutil

from bench.common import server, table

EVENTS = 1_000_000
SPANS = 200_000
GOAL_MIB = 100
MIB = 1024 * 1024
PROBE = "bench-export-probe"

FILL_EVENTS = (
    "INSERT INTO events (tenant_id, id, name, timestamp, source, execution_id, actor_type, actor_id, resource_type, "
    "resource_id, correlation_id, outcome, payload, is_span) "
    "SELECT {tenant:String}, concat('ev-', leftPad(toString(number), 9, '0')), "
    "['order.placed', 'order.shipped', 'invoice.sent'][number % 3 + 1], "
    "toDateTime64('2024-01-01 00:00:00', 6, 'UTC') + toIntervalMillisecond(number * 50), 'audit', '', 'user', "
    "concat('u', toString(number % 500)), 'artifact', concat('a', toString(number % 5000)), "
    "concat('c', toString(number % 20000)), 'success', "
    "concat('{\"i\": ', toString(number), ', \"note\": \"', repeat('x', 120), '\"}'), 0 "
    "FROM numbers({n:UInt64})"
)
FILL_SPANS = (
    "INSERT INTO spans (tenant_id, execution_id, span_id, event_id, event_name, ts, parent_span_id, span_name, "
    "span_kind, span_status, start_time, end_time, inputs, outputs, usage, cost, input_tokens, output_tokens, "
    "ingested_at) "
    "SELECT {tenant:String}, concat('ex-', leftPad(toString(intDiv(number, 10)), 8, '0')), "
    "concat('s', toString(number % 10)), concat('e', toString(number)), 'span.logged', start, "
    "if(number % 10 = 0, '', 's0'), ['workflow', 'plan', 'llm.call', 'tool.search', 'answer'][number % 5 + 1], "
    "if(number % 4 = 1, 'LLM', 'CHAIN'), if(number % 50 = 7, 'FAILED', 'SUCCEEDED'), start, "
    "start + toIntervalMillisecond(20 + number % 2000), "
    "concat('{\"question\": \"', repeat('q', 150), '\"}'), concat('{\"answer\": \"', repeat('a', 150), '\"}'), "
    "if(number % 4 = 1, '[{\"model\": \"gpt-4o\", \"input_tokens\": 120, \"output_tokens\": 40, "
    "\"cache_creation_input_tokens\": 0, \"cache_read_input_tokens\": 0}]', ''), "
    "if(number % 4 = 1, '[{\"value\": 0.0012, \"unit\": \"USD\"}]', ''), if(number % 4 = 1, 120, 0), "
    "if(number % 4 = 1, 40, 0), now64(6) "
    "FROM (SELECT number, toDateTime64('2024-02-01 00:00:00', 6, 'UTC') + toIntervalMillisecond(number * 10) "
    "AS start FROM numbers({n:UInt64}))"
)


def fill(clickhouse_dir: str, events: int, spans: int) -> None:
    """In its own process: the tenant of the probe event gets `events` events and `spans` span pieces."""
    import clickhouse_connect

    client = clickhouse_connect.get_client(dsn=f"chdb://{clickhouse_dir}")
    tenant = client.query("SELECT tenant_id FROM events WHERE id = {p:String}", parameters={"p": PROBE}).result_rows
    params = {"tenant": tenant[0][0]}
    client.command(FILL_EVENTS, parameters={**params, "n": events})
    client.command(FILL_SPANS, parameters={**params, "n": spans})
    client.close()


class PeakRss:
    """The highest RSS of a process, sampled every 20 ms on a thread until stopped."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(url: str, key: str, pid: int, params: dict[str, str]) -> tuple[int, int, float, int, int]:
    """Lines and bytes read, seconds, and the server's RSS before and at its peak."""
    baseline = psutil.Process(pid).memory_info().rss
    lines = size = 0
    started = time.perf_counter()
    headers = {"X-API-Key": key, "Accept-Encoding": "identity"}  # the export's cost, not the compression's
    with PeakRss(pid) as rss, httpx.Client(base_url=url, headers=headers, timeout=600) as client:
        with client.stream("GET", "/api/v1/export", params=params) as response:
            response.raise_for_status()
            for chunk in response.iter_raw():
                lines += chunk.count(b"\n")
                size += len(chunk)
    return lines, size, time.perf_counter() - started, baseline, rss.peak


def run(events: int, spans: int) -> list[list[object]]:
    rows: list[list[object]] = []
    with server() as proc:  # the first start makes the tables and the tenant of the bench key
        with proc.client() as client:
            query = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }"
            probe = [{"id": PROBE, "name": "bench.probe"}]
            client.post("/graphql", json={"query": query, "variables": {"e": probe}}).raise_for_status()
        proc.stop()
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bench.export", "--fill", str(proc.data_dir / "clickhouse"),
                        str(events), str(spans)], check=True)  # fmt: skip
        print(f"filled {events:,} events and {spans:,} span pieces in {time.perf_counter() - started:.1f} s")
        proc.start()
        pid = proc.proc.pid if proc.proc else 0
        # warm-up: the code paths and the first reads, so the baseline is a server that has exported before
        measure(proc.url, proc.api_key, pid, {"kind": "executions,spans", "execution_id": "ex-00000001"})
        cases = [("events", {"kind": "events"}, events + 1, True), ("spans (NDJSON)", {"kind": "spans"}, spans, False),
                 ("spans (OTLP)", {"kind": "spans", "format": "otlp"}, spans, False)]  # fmt: skip
        for label, params, expected, has_goal in cases:
            lines, size, seconds, baseline, peak = measure(proc.url, proc.api_key, pid, params)
            growth = (peak - baseline) / MIB
            if label != "spans (OTLP)":
                assert lines == expected, f"{label}: {lines} lines, expected {expected}"
            verdict = ("ok" if growth <= GOAL_MIB else "OVER") if has_goal else "-"
            rows.append([label, f"{expected:,}", round(seconds, 1), f"{expected / seconds:,.0f}",
                         round(size / MIB / seconds, 1), round(baseline / MIB, 1), round(peak / MIB, 1),
                         round(growth, 1), f"≤ {GOAL_MIB}" if has_goal else "-", verdict])  # fmt: skip
    return rows


def main() -> None:
    if sys.argv[1:2] == ["--fill"]:
        fill(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    events = int(sys.argv[1]) if len(sys.argv) > 1 else EVENTS
    spans = int(sys.argv[2]) if len(sys.argv) > 2 else SPANS
    table(
        "Export: GET /api/v1/export streamed from a real server (RSS: the server process)",
        ["export", "rows", "s", "rows/s", "MiB/s", "RSS before MiB", "RSS peak MiB", "growth MiB", "goal MiB",
         "verdict"],
        run(events, spans),
    )  # fmt: skip


if __name__ == "__main__":
    main()

