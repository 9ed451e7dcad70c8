"""Server memory around big trace reads: a real `tracehouse serve` process, one 50,000-span execution.

Measures the server process's RSS (/proc/PID/status, the Python process with chDB inside it; the embedded
Postgres is another process): the idle baseline after loading, the rise while one 50k response is served
(sampled every few milliseconds) beside that response's size, and RSS 60 s after 20 fetches of it.
Goals (issue 15): RSS 60 s after the 20 fetches within 1.25x of the idle baseline before them; the rise
while one response is served at most 4x that response's size.
Run: `make bench` (or `.venv/bin/python -m bench.memory [FETCHES [SETTLE_SECONDS]]`). Prints a markdown table.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.common import BENCH_KEY, server, table
from bench.loadgen import post_all
from tests.process import ServerProcess

SPANS = 50_000
BATCH = 5_000
T0 = datetime(2024, 1, 1, tzinfo=UTC)
TEXT = "lorem ipsum dolor sit amet " * 11  # ~300 characters
FULL = """query($id: ID!) { execution(id: $id) { spans(first: 50000) { edges { node {
  id parentId name kind status startTime endTime durationMs inputs outputs attributes error { message }
  usage { inputTokens outputTokens totalTokens byModel { model } } cost { value unit } } } } } }"""
MIB = 1024 * 1024


def spans(execution_id: str) -> list[dict[str, Any]]:
    """A tree up to 8 deep: span i's parent is span (i - 1) // 8 (a complete 8-ary tree)."""
    out: list[dict[str, Any]] = []
    for i in range(SPANS):
        start = T0 + timedelta(milliseconds=i)
        span: dict[str, Any] = {
            "id": f"s{i}", "executionId": execution_id, "parentId": f"s{(i - 1) // 8}" if i else None,
            "name": f"step-{i % 50}", "kind": "llm" if i % 4 == 1 else "chain", "startTime": start.isoformat(),
            "endTime": (start + timedelta(milliseconds=50)).isoformat(),
            "inputs": {"text": TEXT, "i": i}, "outputs": {"text": TEXT},
        }  # fmt: skip
        if i % 4 == 1:
            span["usage"] = {"model": "gpt-4o", "inputTokens": 120, "outputTokens": 40}
        out.append(span)
    return out


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class PeakSampler:
    """Samples a process's RSS every `interval` s in a thread; `peak` is the highest seen since start."""

    def __init__(self, pid: int, interval: float = 0.002) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self.peak = rss(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss(self.pid))


def fetch(client: httpx.Client, execution_id: str) -> int:
    response = client.post(
        "/graphql", json={"query": FULL, "variables": {"id": execution_id}}, headers={"Accept-Encoding": "identity"}
    )
    body = response.content
    if response.status_code != 200 or b'"errors"' in body[:200]:
        raise RuntimeError(f"{response.status_code}: {body[:500]!r}")
    edges = orjson.loads(body)["data"]["execution"]["spans"]["edges"]
    if len(edges) != SPANS:
        raise RuntimeError(f"expected {SPANS} spans, got {len(edges)}")
    return len(body)


def settle(pid: int, seconds: float) -> int:
    """RSS after `seconds` of idleness (the server's own periodic work included)."""
    time.sleep(seconds)
    return rss(pid)


def load(proc: ServerProcess) -> None:
    mutation = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }"
    all_spans = spans("big")
    bodies = [orjson.dumps({"query": mutation, "variables": {"s": all_spans[i : i + BATCH]}})
              for i in range(0, SPANS, BATCH)]  # fmt: skip
    asyncio.run(post_all(proc.url, "/graphql", BENCH_KEY, bodies, 1, True))


def main(fetches: int = 20, settle_seconds: float = 60.0) -> None:
    env = {"TRACEHOUSE_GRAPHQL_MAX_COST": "100000000", "TRACEHOUSE_MAX_BATCH_ITEMS": str(BATCH)}
    with server(env) as proc, proc.client() as client:
        assert proc.proc is not None
        pid = proc.proc.pid
        client.timeout = httpx.Timeout(120)
        started = rss(pid)
        load(proc)
        baseline = settle(pid, 5)
        print(f"rss: started {started / MIB:.0f} MiB, idle after loading {baseline / MIB:.0f} MiB", file=sys.stderr)
        rises: list[tuple[int, int]] = []  # (rise during the response, response bytes)
        peak_all = baseline
        for i in range(fetches):
            before = rss(pid)
            with PeakSampler(pid) as sampler:
                size = fetch(client, "big")
            rises.append((sampler.peak - before, size))
            peak_all = max(peak_all, sampler.peak)
            print(f"fetch {i + 1}: {size / MIB:.1f} MiB response, rss {before / MIB:.0f} -> peak "
                  f"{sampler.peak / MIB:.0f} -> {rss(pid) / MIB:.0f} MiB", file=sys.stderr)  # fmt: skip
        after = rss(pid)
        later = settle(pid, settle_seconds)
    first_rise, size = rises[0]
    steady_rise = max(r for r, _ in rises[1:]) if len(rises) > 1 else first_rise
    table(
        f"Server memory, one {SPANS:,}-span execution fetched with every span field ({fetches} fetches; "
        f"response {size / MIB:.1f} MiB)",
        ["figure", "measured", "goal"],
        [
            ["RSS at start (MiB)", started / MIB, ""],
            ["idle baseline after loading (MiB)", baseline / MIB, ""],
            ["peak RSS during the fetches (MiB)", peak_all / MIB, ""],
            ["RSS right after the fetches (MiB)", after / MIB, ""],
            [f"RSS {settle_seconds:.0f} s later (MiB)", later / MIB, f"<= {1.25 * baseline / MIB:,.0f}"],
            [f"RSS {settle_seconds:.0f} s later / baseline", f"{later / baseline:.2f}x", "<= 1.25x"],
            ["rise during the first response / response size", f"{first_rise / size:.1f}x", "<= 4x"],
            ["largest rise during a later response / response size", f"{steady_rise / size:.1f}x", "<= 4x"],
        ],
    )


if __name__ == "__main__":
    main(*(int(a) if i == 0 else float(a) for i, a in enumerate(sys.argv[1:3])))
