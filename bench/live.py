"""Live delivery: S subscribers on one execution while span events are ingested at R events/s for T s.

Reports delivery latency p50/p99 (event timestamp → received by the subscriber), messages lost
(expected minus received over all subscribers), and the server's CPU and peak RSS. The server is
`tracehouse serve` on embedded stores; subscribers run in two client processes; the ingester here.
Run: `make bench` (or `.venv/bin/python -m bench.live [S R T [MODE]]`; MODE `existing` subscribes with
`includeExisting: true`, `distinct` gives every subscriber its own document so that nothing is shared,
`tree` also selects the span with its parent and children, `slow` adds 20 subscribers of the same document
that stop reading right after subscribing, `slow-distinct` 20 such on documents of their own: the figures
are then the S readers', and the last column says how many of the stalled ones were cut off).
Prints a markdown table.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psutil

from bench.common import BENCH_KEY, median, percentile, server, table
from bench.live_subscribers import QUERY, query_for
from bench.loadgen import post_all
from tests.ws_client import StalledSubscriber

SUBSCRIBERS, RATE, SECONDS = 100, 1000, 30
STALLED = 20  # mode `slow`: subscribers that never read
TICK = 0.05  # the ingester sends RATE * TICK events every TICK seconds


def events(execution_id: str, n: int, offset: int) -> list[dict[str, object]]:
    now = datetime.now(UTC).isoformat()
    return [{"id": str(uuid.uuid4()), "name": f"node.execution.{('initiated', 'fulfilled')[(offset + i) % 2]}",
             "timestamp": now, "trace_id": execution_id, "span_id": f"s{(offset + i) // 2}",
             "body": {"outputs": {"n": offset + i}}} for i in range(n)]  # fmt: skip


async def run(subscribers: int, rate: int, seconds: int, mode: str = "shared") -> list[list[object]]:
    with server() as proc:
        execution_id = "live-bench"
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
        halves = [subscribers // 2, subscribers - subscribers // 2]
        readers_mode = "shared" if mode.startswith("slow") else mode
        clients = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.live_subscribers", proc.url, BENCH_KEY, execution_id, str(n),
                str(seconds + 5), readers_mode, stdout=asyncio.subprocess.PIPE, env=env,
                preexec_fn=lambda: os.nice(10),  # the clients yield the CPU to the server and the ingester
            )
            for n in halves if n
        ]  # fmt: skip
        for client in clients:
            assert client.stdout is not None
            assert (await client.stdout.readline()).strip() == b"READY"
        stalled_queries = [QUERY if mode == "slow" else query_for("distinct", i) for i in range(STALLED)]
        stalled = [StalledSubscriber(proc.url, BENCH_KEY, query, {"id": execution_id})
                   for query in stalled_queries if mode.startswith("slow")]  # fmt: skip
        await asyncio.sleep(1.0)  # let the server register every subscription before the first event
        server_proc = psutil.Process(proc.proc.pid)  # type: ignore[union-attr]
        cpu_before = server_proc.cpu_times()
        peak_rss = server_proc.memory_info().rss
        per_tick = max(1, int(rate * TICK))
        sent = 0
        posts: list[asyncio.Task[list[float]]] = []
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            # requests go out on the clock, not after the previous one was acknowledged
            body = [orjson.dumps(events(execution_id, per_tick, sent))]
            posts.append(asyncio.create_task(post_all(proc.url, "/monitoring/v1/events", BENCH_KEY, body, 1)))
            sent += per_tick
            peak_rss = max(peak_rss, server_proc.memory_info().rss)
            await asyncio.sleep(max(0.0, start + len(posts) * TICK - time.monotonic()))
        elapsed = time.monotonic() - start
        await asyncio.gather(*posts)
        cpu_after = server_proc.cpu_times()
        results = [orjson.loads((await c.communicate())[0].splitlines()[-1]) for c in clients]
        cut = sum(_was_cut(s) for s in stalled)
    latencies = [x for r in results for x in r["latencies"]]
    received = sum(sum(r["counts"]) for r in results)
    lost = sent * subscribers - received
    cpu = (cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system) / elapsed * 100
    errors = [e for r in results for e in r["errors"]]
    kind = "subscribers" if mode == "shared" else f"subscribers ({mode})"
    label = f"{subscribers} {kind}, {sent / elapsed:,.0f} events/s for {elapsed:.0f} s"
    p50, p99 = f"{median(latencies) * 1000:.0f}", f"{percentile(latencies, 99) * 1000:.0f}"
    first_error = errors[0][:80] if errors else ""
    if stalled:
        first_error = f"{cut} of {len(stalled)} stalled cut off; " + first_error
    return [[label, p50, p99, f"{received:,}", f"{lost:,}", f"{cpu:.0f}%", f"{peak_rss / 2**20:.0f} MiB", first_error]]


def _was_cut(stalled: StalledSubscriber) -> bool:
    """Whether a stalled subscriber, reading now, finds its subscription ended with SLOW_CONSUMER (or closed)."""
    messages, ended = stalled.read_all(timeout=30.0)
    stalled.close()
    closed = not messages or messages[-1].get("type") not in ("complete", "error")
    return ended and (closed or "SLOW_CONSUMER" in orjson.dumps(messages[-2:]).decode())


def main() -> None:
    args = [int(a) for a in sys.argv[1:4]] or [SUBSCRIBERS, RATE, SECONDS]
    rows = asyncio.run(run(*args, mode=sys.argv[4] if len(sys.argv) > 4 else "shared"))
    table(
        "Live delivery (executionUpdates; server: one process, embedded stores)",
        ["workload", "p50 ms", "p99 ms", "delivered", "lost", "server CPU", "server peak RSS", "first error"],
        rows,
    )


if __name__ == "__main__":
    main()
