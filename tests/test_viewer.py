"""The trace viewer (web/, served at `/`) in a real headless Chromium against a real `tracehouse serve`, every
request to another host blocked: sign in, the executions list (live), the waterfall, the detail panel, a
running execution growing over the subscription (and across a dropped websocket), deep links, a wrong key.

Every wait is on a condition in the page with a deadline (Playwright's waits), never a fixed sleep.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import OfflinePage
from tests.process import ServerProcess

KEY = "th_viewer_test_key"
LOG_SPANS = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }"
T0 = datetime.now(UTC) - timedelta(minutes=5)
ANSWER = "forty-two, said the viewer"
WIDE_CHILDREN = 120


def _span(execution: str, span_id: str, parent: str | None, offset_ms: int, length_ms: int | None,
          **fields: Any) -> dict[str, Any]:  # fmt: skip
    start = T0 + timedelta(milliseconds=offset_ms)
    span: dict[str, Any] = {
        "id": span_id, "executionId": execution, "parentId": parent, "name": fields.pop("name", span_id),
        "kind": fields.pop("kind", "chain"), "startTime": start.isoformat(), **fields,
    }  # fmt: skip
    if length_ms is not None:
        span["endTime"] = (start + timedelta(milliseconds=length_ms)).isoformat()
    return span


def _workflow() -> list[dict[str, Any]]:
    """A finished workflow of 26 spans: a root, 5 steps, 4 model calls under each; one answers ANSWER."""
    spans = [_span("wf-1", "root", None, 0, 3000, name="support-agent", kind="workflow", inputs={"question": "why?"})]
    for step in range(5):
        spans.append(_span("wf-1", f"step-{step}", "root", 10 + step * 500, 450, name=f"step {step}"))
        for call in range(4):
            offset = 20 + step * 500 + call * 100
            outputs = {"text": ANSWER} if (step, call) == (2, 1) else {"text": f"reply {step}.{call}"}
            spans.append(_span("wf-1", f"llm-{step}-{call}", f"step-{step}", offset, 90, name="chat gpt-4o", kind="llm",
                               inputs={"messages": [{"role": "user", "content": f"q {step}.{call}"}]}, outputs=outputs,
                               usage={"model": "gpt-4o", "inputTokens": 100, "outputTokens": 20}))  # fmt: skip
    return spans


def _wide() -> list[dict[str, Any]]:
    spans = [_span("wide-1", "root", None, 0, 5000, name="fan-out", kind="workflow")]
    for i in range(WIDE_CHILDREN):
        spans.append(_span("wide-1", f"c{i:03}", "root", 1 + i, 10, name=f"item {i}", kind="tool"))
    return spans


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("viewer") / "data", KEY) as proc:
        for spans in (_workflow(), _wide()):
            _log(proc, spans)
        yield proc


def _log(server: ServerProcess, spans: list[dict[str, Any]]) -> None:
    with server.client() as http:
        response = http.post("/graphql", json={"query": LOG_SPANS, "variables": {"s": spans}})
        assert response.json().get("data", {}).get("logSpans", {}).get("count") == len(spans), response.text


def _signed_in(browser: Any, server: ServerProcess, name: str) -> OfflinePage:
    offline = OfflinePage(browser, server, name)
    offline.context.add_cookies([{"name": "vai_token", "value": KEY, "url": server.url}])
    return offline


def _rows(page: Any) -> list[str]:
    return list(page.eval_on_selector_all(".wf-row[data-id]", "rows => rows.map(r => r.dataset.id)"))


def test_the_page_and_its_assets_load_without_a_key(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url) as http:
        for path in ("/", "/executions/wf-1", "/executions/wf-1?span=root"):
            page = http.get(path)
            assert page.status_code == 200 and '<script type="module" src="/ui/app.js">' in page.text, path
        script = http.get("/ui/app.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert http.get("/ui/styles.css").headers["content-type"].startswith("text/css")
        assert http.get("/ui/__init__.py").status_code == 404  # the package marker is not served
        assert http.post("/graphql", json={"query": "{ liveCursor }"}).status_code == 401  # data still needs a key


def test_every_viewer_file_ships_in_the_package() -> None:
    """A non-editable install carries web/: it is a package and every file the page loads matches its
    package-data globs (a new kind of file without a glob would 404 from an installed server)."""
    root = Path(__file__).resolve().parent.parent
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "web" in setuptools["packages"]
    globs = setuptools["package-data"]["web"]
    files = [p.name for p in (root / "web").iterdir() if p.is_file() and p.name != "__init__.py"]
    assert "index.html" in files and "app.js" in files
    assert [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []


def test_sign_in_list_waterfall_and_detail(browser: Any, server: ServerProcess) -> None:
    with OfflinePage(browser, server, "viewer-flow") as offline:
        page = offline.page
        page.goto(f"{server.url}/")
        page.fill("#api-key", KEY)
        page.press("#api-key", "Enter")
        row = page.locator('table.executions tr[data-id="wf-1"]')
        row.wait_for()
        assert "support-agent" in row.inner_text() and "succeeded" in row.inner_text().lower()
        assert page.locator('table.executions tr[data-id="wide-1"]').count() == 1

        row.locator("a").click()
        page.wait_for_selector("#waterfall[data-ready=true]")
        assert page.url == f"{server.url}/executions/wf-1"
        assert page.inner_text("#exec-title") == "support-agent"
        assert len(_rows(page)) == 26  # every span fits on screen: 1 + 5 + 20
        assert page.inner_text("#span-count") == "26"

        page.click('.wf-row[data-id="llm-2-1"]')
        page.wait_for_selector('.detail[data-span="llm-2-1"] .outputs')
        assert ANSWER in page.inner_text('.detail[data-span="llm-2-1"] .outputs')
        assert "120" in page.inner_text(".detail") and "gpt-4o" in page.inner_text(".detail")  # usage
        assert page.url.endswith("/executions/wf-1?span=llm-2-1")

        page.click('.wf-row[data-id="root"] .wf-toggle')  # collapse the whole tree to its root
        page.wait_for_function("() => document.querySelectorAll('.wf-row[data-id]').length === 1")
        page.click('.wf-row[data-id="root"] .wf-toggle')
        page.wait_for_function("() => document.querySelectorAll('.wf-row[data-id]').length === 26")

        page.click("#sign-out")
        page.wait_for_selector("#api-key")
        assert not any(c["name"] == "vai_token" for c in offline.context.cookies())
        offline.assert_clean()


def test_a_wrong_key_says_so(browser: Any, server: ServerProcess) -> None:
    with OfflinePage(browser, server, "viewer-wrong-key") as offline:
        page = offline.page
        page.goto(f"{server.url}/")
        page.fill("#api-key", "th_not_a_key")
        page.press("#api-key", "Enter")
        page.wait_for_selector("#signin-message.error")
        message = page.inner_text("#signin-message")
        assert "not accepted" in message and "unknown or revoked API key" in message, message
        assert page.locator("table.executions").count() == 0
        assert not any(c["name"] == "vai_token" for c in offline.context.cookies())


def test_a_running_execution_grows_live_and_resumes_after_a_drop(browser: Any, server: ServerProcess) -> None:
    _log(server, [_span("run-1", "root", None, 0, None, name="long run", kind="workflow")])
    with _signed_in(browser, server, "viewer-live") as offline:
        page = offline.page
        page.goto(f"{server.url}/executions/run-1")
        page.wait_for_selector("#waterfall[data-ready=true]")
        assert _rows(page) == ["root"]
        assert "running" in page.inner_text("#exec-status").lower()
        page.evaluate("() => { window.notReloaded = true; }")

        _log(server, [_span("run-1", f"a{i}", "root", 10 + i, 5, name=f"tool {i}", kind="tool") for i in range(3)])
        page.wait_for_function("() => document.querySelectorAll('.wf-row[data-id]').length === 4")
        assert _rows(page) == ["root", "a0", "a1", "a2"]
        page.wait_for_selector(".live-dot[data-state=live]")

        # A dropped websocket: what is written meanwhile arrives once it is back (resumed from its cursor).
        page.evaluate("() => window.tracehouse.live.drop()")
        _log(server, [_span("run-1", "b0", "a1", 30, 5, name="nested", kind="llm")])
        page.wait_for_function("() => document.querySelector('.wf-row[data-id=\"b0\"]') !== null")
        assert _rows(page) == ["root", "a0", "a1", "b0", "a2"]

        _log(server, [_span("run-1", "root", None, 0, 60_000, name="long run", kind="workflow", status="SUCCEEDED")])
        page.wait_for_function("() => document.querySelector('#exec-status .status-succeeded') !== null")
        assert page.evaluate("() => window.notReloaded") is True
        assert offline.errors == [], offline.errors


def test_a_new_execution_appears_in_the_list_live(browser: Any, server: ServerProcess) -> None:
    with _signed_in(browser, server, "viewer-list-live") as offline:
        page = offline.page
        page.goto(f"{server.url}/")
        page.wait_for_selector('table.executions tr[data-id="wf-1"]')
        page.wait_for_selector(".live-dot[data-state=live]")
        page.evaluate("() => { window.notReloaded = true; }")

        def appears(attempt: int) -> bool:
            # The subscription may still be registering on the server: write again until one shows.
            _log(server, [_span(f"new-{attempt}", "root", None, 0, 10, name=f"fresh run {attempt}")])
            try:
                page.wait_for_selector(f'table.executions tr[data-id="new-{attempt}"]', timeout=3_000)
                return True
            except Exception:  # playwright's TimeoutError
                return False

        assert any(appears(attempt) for attempt in range(5))
        assert page.evaluate("() => window.notReloaded") is True

        # After a dropped websocket the list reloads its first page and follows new executions again.
        page.evaluate("() => window.tracehouse.live.drop()")
        page.wait_for_selector(".live-dot[data-state=reconnecting]")
        page.wait_for_selector(".live-dot[data-state=live]")
        assert any(appears(attempt) for attempt in range(10, 15))
        assert offline.errors == [], offline.errors
        first = page.eval_on_selector("table.executions tbody tr", "tr => tr.dataset.id")
        assert str(first).startswith("new-")  # newest first


def test_a_deep_link_opens_with_its_span_selected_inside_a_cut_wide_level(browser: Any, server: ServerProcess) -> None:
    with _signed_in(browser, server, "viewer-deep-link") as offline:
        page = offline.page
        page.goto(f"{server.url}/executions/wide-1?span=c100")
        page.wait_for_selector('.detail[data-span="c100"]')
        assert page.get_attribute('.wf-row[data-id="c100"]', "aria-selected") == "true"
        assert "item 100" in page.inner_text(".detail-name")
        # the 120 children are cut: the first 20, the linked one revealed (up to it), then "+k more"
        more = page.locator(".wf-more")
        assert more.count() == 1 and f"+{WIDE_CHILDREN - 101} more" in more.inner_text()
        more.locator("button").click()
        page.wait_for_function("() => document.querySelectorAll('.wf-more').length === 0")

        page.goto(f"{server.url}/executions/wide-1")
        page.wait_for_selector("#waterfall[data-ready=true]")
        assert page.locator(".wf-more").inner_text().strip() == f"+{WIDE_CHILDREN - 20} more"
        assert len(_rows(page)) == 21
        assert offline.errors == [], offline.errors


def test_the_list_filters_sorts_and_pages_as_it_scrolls(browser: Any, server: ServerProcess) -> None:
    bulk = [_span(f"bulk-{i:03}", "root", None, 60_000 + i, 10 + i, name=f"bulk run {i:03}") for i in range(130)]
    bulk[7]["status"] = "FAILED"
    _log(server, bulk)
    with _signed_in(browser, server, "viewer-list-paging") as offline:
        page = offline.page
        page.goto(f"{server.url}/")
        page.wait_for_selector('table.executions tr[data-id="wf-1"]')
        page.fill("#filter-search", "BULK RUN")
        page.wait_for_function("() => document.querySelector('#list-summary').innerText === '100 of 130'")
        assert page.eval_on_selector("table.executions tbody tr", "tr => tr.dataset.id") == "bulk-129"  # newest

        page.eval_on_selector(".sentinel", "el => el.scrollIntoView()")  # the next page loads as it scrolls
        page.wait_for_function("() => document.querySelector('#list-summary').innerText === '130 of 130'")
        ids = page.eval_on_selector_all("table.executions tbody tr", "rows => rows.map(r => r.dataset.id)")
        assert ids == [f"bulk-{i:03}" for i in range(129, -1, -1)]

        page.click('th[data-column="duration"]')  # longest first
        page.wait_for_function("() => document.querySelector('th[data-column=\"duration\"]').ariaSort === 'descending'")
        page.wait_for_function("() => document.querySelector('table.executions tbody tr')?.dataset.id === 'bulk-129'")
        page.click('th[data-column="duration"]')  # then shortest first
        page.wait_for_function("() => document.querySelector('table.executions tbody tr')?.dataset.id === 'bulk-000'")

        page.select_option("#filter-status", "FAILED")
        page.wait_for_function("() => document.querySelector('#list-summary').innerText === '1 of 1'")
        assert page.eval_on_selector("table.executions tbody tr", "tr => tr.dataset.id") == "bulk-007"
        assert offline.errors == [], offline.errors


def test_the_tree_is_one_skeleton_request_and_heavy_fields_come_on_selection(
    browser: Any, server: ServerProcess
) -> None:
    """Opening an execution asks for no inputs, outputs, attributes, usage or cost of its spans; one request
    answers the whole skeleton; selecting a span then asks for that span's heavy fields alone."""
    heavy = ("inputs", "outputs", "attributes", "usage", "events")
    with _signed_in(browser, server, "viewer-requests") as offline:
        page = offline.page
        responses: list[Any] = []
        page.on("response", lambda r: responses.append(r) if r.url == f"{server.url}/graphql" else None)
        page.goto(f"{server.url}/executions/wf-1")
        page.wait_for_selector("#waterfall[data-ready=true]")
        opened = [(r.request.post_data_json["query"], r.json()) for r in responses]
        skeletons = [body for query, body in opened if "spans(" in query and body.get("data")]
        assert len(skeletons) == 1 and len(skeletons[0]["data"]["execution"]["spans"]["edges"]) == 26
        for query, _ in opened:
            span_fields = query.split("spans(")[-1]
            assert not any(f" {name} " in f" {span_fields} " for name in heavy), query

        del responses[:]
        page.click('.wf-row[data-id="llm-0-0"]')
        page.wait_for_selector('.detail[data-span="llm-0-0"]')
        (selected,) = [r.request.post_data_json for r in responses]
        assert selected["variables"] == {"executionId": "wf-1", "spanId": "llm-0-0"}
        assert "outputs" in selected["query"] and "spans(" not in selected["query"]
