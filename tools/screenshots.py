"""The README's screenshots of the trace viewer: a scratch `tracehouse serve`, a few agent runs logged through
the GraphQL API, then the executions list and one execution page (a span selected) shot in headless
Chromium, light and dark. Run: `.venv/bin/python -m tools.screenshots` (writes docs/viewer-*.png).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import BENCH_KEY, server
from tests.process import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
DOCS = Path(__file__).resolve().parent.parent / "docs"
LOG_SPANS = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }"
NOW = datetime.now(UTC).replace(microsecond=0)
ANSWER = (
    "Thanks for reaching out! Your order #4821 left our warehouse on Monday and is with the carrier now. "
    "The tracking page shows it arriving on Thursday between 9:00 and 13:00. If it has not arrived by Friday, "
    "reply to this message and we will send a replacement at no cost."
)


class Run:
    """Spans of one execution, laid out on a clock that moves as steps are added."""

    def __init__(self, execution_id: str, name: str, started: datetime) -> None:
        self.id = execution_id
        self.t0 = started
        self.spans: list[dict[str, Any]] = []
        self.root = self.add(None, name, "workflow", 0, None, inputs={"ticket": 4821, "channel": "email"})

    def add(self, parent: str | None, name: str, kind: str, at_ms: int, length_ms: int | None, **fields: Any) -> str:
        span_id = f"{self.id}-{len(self.spans)}"
        start = self.t0 + timedelta(milliseconds=at_ms)
        span = {"id": span_id, "executionId": self.id, "parentId": parent, "name": name, "kind": kind,
                "startTime": start.isoformat(), **fields}  # fmt: skip
        if length_ms is not None:
            span["endTime"] = (start + timedelta(milliseconds=length_ms)).isoformat()
        self.spans.append(span)
        return span_id

    def llm(self, parent: str, name: str, at: int, length: int, model: str, tokens: tuple[int, int], cost: float,
            **fields: Any) -> str:  # fmt: skip
        usage = {"model": model, "inputTokens": tokens[0], "outputTokens": tokens[1]}
        return self.add(parent, name, "llm", at, length, usage=usage, cost={"value": cost, "unit": "USD"}, **fields)

    def finish(self, length_ms: int, status: str | None = None, **fields: Any) -> None:
        root = self.spans[0]
        root["endTime"] = (self.t0 + timedelta(milliseconds=length_ms)).isoformat()
        root.update(fields)
        if status:
            root["status"] = status


def support_agent(execution_id: str, started: datetime, rounds: int) -> Run:
    run = Run(execution_id, "customer-support-agent", started)
    t = 0
    run.llm(run.root, "classify intent", t, 420, "gpt-4o-mini", (212, 9), 0.00004,
            inputs={"text": "Where is my order #4821?"}, outputs={"intent": "order_status", "confidence": 0.97})
    t += 440
    retrieve = run.add(run.root, "retrieve context", "retriever", t, 610)
    run.add(retrieve, "embed query", "embedding", t + 10, 120, outputs={"dimensions": 1536})
    run.add(retrieve, "vector search", "tool", t + 140, 260, outputs={"hits": 8})
    run.add(retrieve, "orders.lookup", "tool", t + 410, 190, outputs={"order": 4821, "status": "in_transit"})
    t += 630
    for i in range(rounds):
        step = run.add(run.root, f"agent step {i + 1}", "agent", t, 900)
        run.llm(step, "plan", t + 10, 380, "claude-sonnet-4", (1840, 96), 0.0069, outputs={"tool": "tracking.status"})
        run.add(step, "tracking.status", "tool", t + 400, 300, outputs={"eta": "Thursday 9:00-13:00"})
        run.add(step, "policy check", "guardrail", t + 710, 170, outputs={"passed": True})
        t += 920
    messages = [{"role": "system", "content": "You are a helpful support agent for Acme Outfitters."},
                {"role": "user", "content": "Where is my order #4821? It was supposed to arrive yesterday."}]
    run.llm(run.root, "draft reply", t, 2350, "claude-sonnet-4", (3120, 184), 0.01212,
            inputs={"messages": messages, "temperature": 0.2}, outputs={"text": ANSWER, "finish_reason": "stop"},
            attributes={"llm.provider": "anthropic", "prompt.template": "support/reply@v7"})  # fmt: skip
    t += 2370
    run.add(run.root, "send email", "tool", t, 240, outputs={"message_id": "msg_7fd2"})
    run.finish(t + 260, outputs={"reply": ANSWER[:60] + "…"})
    return run


def demo_runs() -> list[Run]:
    runs = [support_agent(f"run-{i:03}", NOW - timedelta(minutes=3 + i * 7), 2 + i % 3) for i in range(9)]
    failed = Run("run-research", "research-agent", NOW - timedelta(minutes=11))
    failed.llm(failed.root, "plan research", 0, 900, "gpt-4o", (940, 120), 0.0036)
    failed.add(failed.root, "web.fetch", "tool", 920, 3000, status="FAILED",
               error={"message": "upstream timed out after 3000 ms", "code": "TIMEOUT"})  # fmt: skip
    failed.finish(4000, status="FAILED", error={"message": "tool web.fetch failed", "code": "TOOL_ERROR"})
    runs.append(failed)
    live = Run("run-eval", "nightly-eval", NOW - timedelta(seconds=40))
    for i in range(6):
        live.llm(live.root, f"grade case {i + 1}", i * 1500, 1400, "gpt-4o-mini", (600, 40), 0.0001)
    live.add(live.root, "grade case 7", "llm", 9000, None)
    runs.append(live)
    return runs


def log(proc: ServerProcess, runs: list[Run]) -> None:
    with proc.client() as http:
        for run in runs:
            response = http.post("/graphql", json={"query": LOG_SPANS, "variables": {"s": run.spans}})
            assert response.json()["data"]["logSpans"]["count"] == len(run.spans), response.text


def shoot(browser: Any, proc: ServerProcess, span: str, scheme: str, suffix: str) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme=scheme, device_scale_factor=1)
    context.add_cookies([{"name": "vai_token", "value": BENCH_KEY, "url": proc.url}])
    page = context.new_page()
    page.goto(f"{proc.url}/")
    page.wait_for_selector('table.executions tr[data-id="run-eval"]')
    page.wait_for_selector(".live-dot[data-state=live]")
    page.screenshot(path=str(DOCS / f"viewer-list{suffix}.png"))
    page.goto(f"{proc.url}/executions/run-002?span={span}")
    page.wait_for_selector(f'.detail[data-span="{span}"]')
    page.wait_for_selector(".live-dot[data-state=live]")
    page.screenshot(path=str(DOCS / f"viewer-execution{suffix}.png"))
    context.close()


def main() -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit("tools/screenshots.py needs playwright (the dev extras)")
    DOCS.mkdir(exist_ok=True)
    with server() as proc, sync_playwright() as playwright:
        runs = demo_runs()
        log(proc, runs)
        span = next(s["id"] for s in runs[2].spans if s["name"] == "draft reply")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        shoot(browser, proc, span, "light", "")
        shoot(browser, proc, span, "dark", "-dark")
        browser.close()
    print(f"wrote {', '.join(str(p.relative_to(DOCS.parent)) for p in sorted(DOCS.glob('viewer-*.png')))}")


if __name__ == "__main__":
    main()
