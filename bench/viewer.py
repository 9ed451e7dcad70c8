"""The trace viewer in headless Chromium: time to first render of a 10,000- and a 50,000-span execution
(from navigation start to the first painted frame with waterfall rows: page, modules, the live cursor,
the skeleton request, building the tree, drawing the visible rows and the minimap), and the time from a
click on a span to its detail (inputs, outputs, usage, cost, events fetched then) on screen.

Goals: first render <= 1.5 s (10k) and <= 3 s (50k); select to detail <= 300 ms.
Run: `make bench` (or `.venv/bin/python -m bench.viewer`). Needs /usr/bin/chromium and playwright.
"""

from __future__ import annotations

import random
import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import BENCH_KEY, server, table
from tests.process import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
SIZES = (10_000, 50_000)
GOALS_MS = {10_000: 1500, 50_000: 3000}
SELECT_GOAL_MS = 300
RUNS = 3
SELECTS = 5
BATCH = 5_000
LOG_SPANS = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }"
T0 = datetime(2025, 6, 1, tzinfo=UTC)
TEXT = "lorem ipsum dolor sit amet " * 11  # ~300 characters of inputs and outputs a span, never in the skeleton

PAINTED = """async () => {
  for (;;) {
    const mark = performance.getEntriesByName("tracehouse:waterfall-painted")[0];
    if (mark) return mark.startTime;
    await new Promise((r) => setTimeout(r, 5));
  }
}"""
SELECT = """async (id) => {
  const row = document.querySelector(`.wf-row[data-id="${CSS.escape(id)}"]`);
  const started = performance.now();
  row.click();
  for (;;) {
    await new Promise((r) => requestAnimationFrame(r));
    if (document.querySelector(`.detail[data-span="${CSS.escape(id)}"]`)) {
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r)));  // painted
      return performance.now() - started;
    }
  }
}"""
FETCHED = """() => performance.getEntriesByName("tracehouse:skeleton-fetched")[0].startTime"""
REQUESTS = """() => performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/graphql")).length"""


def spans(execution_id: str, count: int) -> list[dict[str, Any]]:
    """A root, then each span under a random earlier span less than 8 levels deep (wide levels near the top)."""
    rng = random.Random(count)
    depth = [0]
    out: list[dict[str, Any]] = []
    for i in range(count):
        parent = None
        if i:
            candidate = rng.randrange(i)
            while depth[candidate] >= 7:
                candidate = rng.randrange(candidate) if candidate else 0
            parent = candidate
            depth.append(depth[candidate] + 1)
        start = T0 + timedelta(milliseconds=i * 3)
        length = timedelta(milliseconds=3 * count + 100 if i == 0 else 40)
        span: dict[str, Any] = {
            "id": f"s{i}", "executionId": execution_id, "parentId": None if parent is None else f"s{parent}",
            "name": "agent run" if i == 0 else f"step {i}", "kind": "llm" if i % 3 == 1 else "chain",
            "startTime": start.isoformat(), "endTime": (start + length).isoformat(),
            "inputs": {"prompt": TEXT}, "outputs": {"text": TEXT},
        }  # fmt: skip
        if i % 3 == 1:
            span["usage"] = {"model": "gpt-4o", "inputTokens": 120, "outputTokens": 30}
        out.append(span)
    return out


def ingest(proc: ServerProcess, execution_id: str, count: int) -> None:
    with proc.client() as http:
        http.timeout = 300
        batch = spans(execution_id, count)
        for i in range(0, len(batch), BATCH):
            response = http.post("/graphql", json={"query": LOG_SPANS, "variables": {"s": batch[i : i + BATCH]}})
            assert response.json()["data"]["logSpans"]["count"] == len(batch[i : i + BATCH]), response.text[:500]


Measured = tuple[list[float], list[float], list[float], int, int]  # renders, fetched, selects, rows, requests


def measure(browser: Any, proc: ServerProcess, execution_id: str) -> Measured:
    renders: list[float] = []
    skeletons: list[float] = []
    selects: list[float] = []
    rows = requests = 0
    for run in range(RUNS):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.add_cookies([{"name": "vai_token", "value": BENCH_KEY, "url": proc.url}])
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{proc.url}/executions/{execution_id}")
        renders.append(float(page.evaluate(PAINTED)))
        skeletons.append(float(page.evaluate(FETCHED)))
        requests = int(page.evaluate(REQUESTS))
        rows = int(page.eval_on_selector_all(".wf-row[data-id]", "rows => rows.length"))
        if run == 0:
            ids = page.eval_on_selector_all(".wf-row[data-id]", "rows => rows.map((r) => r.dataset.id)")
            for span_id in random.Random(1).sample(ids[1:], min(SELECTS, len(ids) - 1)):
                selects.append(float(page.evaluate(SELECT, span_id)))
        context.close()
    return renders, skeletons, selects, rows, requests


def main() -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("bench/viewer.py SKIPPED: it needs playwright (the dev extras)", file=sys.stderr)
        return
    if not CHROMIUM.exists():
        print(f"bench/viewer.py SKIPPED: it needs {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return
    with server() as proc, sync_playwright() as playwright:
        for size in SIZES:
            ingest(proc, f"viewer-{size}", size)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        results = []
        for size in SIZES:
            renders, skeletons, selects, rows, requests = measure(browser, proc, f"viewer-{size}")
            results.append([
                f"{size:,} spans", round(statistics.median(renders)), f"<= {GOALS_MS[size]:,}",
                round(statistics.median(skeletons)), requests,
                round(statistics.median(r - s for r, s in zip(renders, skeletons, strict=True))), rows,
                round(statistics.median(selects)), f"<= {SELECT_GOAL_MS}",
            ])  # fmt: skip
        browser.close()
    table(
        f"Trace viewer in headless Chromium (medians of {RUNS} page loads, {SELECTS} span selections; ms)",
        ["execution", "first render", "goal", "skeleton in hand at", "GraphQL requests", "tree + first paint",
         "rows in DOM", "select -> detail", "goal"],
        results,
    )  # fmt: skip


if __name__ == "__main__":
    main()
