"""GraphiQL (/graphql) and Swagger UI (/docs) in a real headless Chromium against a real server process,
with every request to another host blocked: the pages must render and work from what Tracehouse serves.

Debian's /usr/bin/chromium is driven by Playwright for Python (never `playwright install`, which would
download a browser build); without it the tests skip, saying so. A failing test leaves a screenshot in
tests/artifacts/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser import OfflinePage
from tests.process import ServerProcess

KEY = "th_browser_test_key"
QUERY = "{ executions(first: 1) { totalCount } }"
SUBSCRIPTION = 'subscription { events(filter: {names: ["browser.seen"]}) { name payload } }'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("browser") / "data", KEY) as proc:
        yield proc


def _server_errors(server: ServerProcess) -> str:
    """The server log's tracebacks, to say why a page showed an error."""
    log = server.log.read_text(errors="replace") if server.log.exists() else ""
    return "\n".join(chunk[:3000] for chunk in log.split("Traceback")[1:][-3:])


def _set_query(page: Any, text: str, operation: str) -> None:
    """Puts `text` in the query editor and waits until GraphiQL has parsed it: it picks HTTP or the
    websocket by the parsed operation, and parses after a debounce."""
    editor = ".graphiql-query-editor .CodeMirror"
    page.eval_on_selector(editor, "(el, text) => el.CodeMirror.setValue(text)", text)
    page.wait_for_function(
        "([selector, operation]) => document.querySelector(selector)"
        "?.CodeMirror.documentAST?.definitions?.[0]?.operation === operation",
        arg=[editor, operation],
    )


def _response_text(page: Any) -> str:
    return str(page.eval_on_selector(".graphiql-response .CodeMirror", "el => el.CodeMirror.getValue()"))


def test_graphiql_renders_and_runs_a_query_and_a_subscription_offline(browser: Any, server: ServerProcess) -> None:
    with OfflinePage(browser, server, "graphiql") as offline:
        page = offline.page
        page.goto(f"{server.url}/graphql")
        page.wait_for_selector(".graphiql-container .graphiql-query-editor .CodeMirror")
        page.fill("#tracehouse-api-key", KEY)
        page.press("#tracehouse-api-key", "Tab")  # `change`: the key is stored and GraphiQL remounts with it
        page.wait_for_function("() => localStorage.getItem('tracehouse:apiKey') !== null")
        page.wait_for_selector(".graphiql-container .graphiql-query-editor .CodeMirror")

        _set_query(page, QUERY, "query")
        page.click(".graphiql-execute-button")
        page.wait_for_function(
            "() => document.querySelector('.graphiql-response .CodeMirror')"
            "?.CodeMirror.getValue().includes('totalCount')"
        )
        result = json.loads(_response_text(page))
        assert result == {"data": {"executions": {"totalCount": 0}}}, result

        # a subscription over graphql-transport-ws, the key in connection_init
        _set_query(page, SUBSCRIPTION, "subscription")
        page.click(".graphiql-execute-button")
        with httpx.Client(base_url=server.url, headers={"X-API-Key": KEY}) as http:
            mutation = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }"
            event = {"name": "browser.seen", "payload": {"from": "graphiql"}}

            def delivered() -> bool:
                # the subscription may still be starting: send again until one arrives
                http.post("/graphql", json={"query": mutation, "variables": {"e": [event]}}).raise_for_status()
                try:
                    page.wait_for_function(
                        "() => document.querySelector('.graphiql-response .CodeMirror')"
                        "?.CodeMirror.getValue().includes('browser.seen')",
                        timeout=2_000,
                    )
                    return True
                except Exception:  # playwright's TimeoutError
                    return False

            assert any(delivered() for _ in range(10)), _response_text(page) + _server_errors(server)
        assert json.loads(_response_text(page))["data"]["events"]["name"] == "browser.seen"
        offline.assert_clean()


def test_swagger_ui_renders_offline_and_authorize_sends_the_key(browser: Any, server: ServerProcess) -> None:
    with OfflinePage(browser, server, "docs") as offline:
        page = offline.page
        page.goto(f"{server.url}/docs")
        page.wait_for_selector(".swagger-ui .information-container .title")
        assert "Tracehouse" in page.inner_text(".swagger-ui .information-container .title")
        page.wait_for_selector(".swagger-ui .opblock")

        page.click(".swagger-ui .btn.authorize")
        page.fill(".swagger-ui .modal-ux input[type=text], .swagger-ui .modal-ux input[type=password]", KEY)
        page.click(".swagger-ui .modal-ux .auth-btn-wrapper .btn.modal-btn.auth.authorize")
        page.click(".swagger-ui .modal-ux .btn-done")

        operation = page.locator(".swagger-ui .opblock-get", has_text="/api/v1/events/stats/by-actor").first
        operation.locator(".opblock-summary").click()
        execute = operation.locator(".btn.execute")
        if not execute.is_visible():  # tryItOutEnabled opens it already in this version
            operation.locator(".try-out__btn").click()
        execute.click()
        status = operation.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for()
        assert status.inner_text().strip() == "200", operation.inner_text()
        offline.assert_clean()
