"""Shared benchmark helpers: a real server process on a scratch data dir, timing, and table printing."""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.process import ServerProcess

BENCH_KEY = "th_bench_key"


@contextmanager
def server(extra_env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    with tempfile.TemporaryDirectory(prefix="tracehouse-bench-") as d:
        proc = ServerProcess(Path(d) / "data", BENCH_KEY, {
            "TRACEHOUSE_MAX_BATCH_ITEMS": "100000",
            "TRACEHOUSE_RATE_LIMIT_PER_SECOND": "0",  # measuring throughput, not the per-key limit
            **(extra_env or {}),
        })
        proc.start()
        try:
            yield proc
        finally:
            proc.stop()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(title: str, header: list[str], rows: list[list[object]]) -> None:
    cells = [header, *[[f"{c:,.1f}" if isinstance(c, float) else str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
