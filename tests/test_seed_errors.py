"""Each seed document's error statuses, on its own path: what a bad request gets there is what the document
lists (Vellum's monitoring events: 400, 401, 403, 429; its execution detail: 404; the audit API: 422 with
FastAPI's `detail` list). HoneyHive's documents list no error status: bad input there is 422 naming the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from storage.postgres import keys
from tests.conftest import Tenant
from tests.payloads import seeds

VELLUM = "/monitoring/v1/events"


@pytest.fixture(scope="module")
async def limited(settings: Settings, app: Any) -> AsyncIterator[tuple[Any, str, str]]:
    """A second app on the same stores with a tight rate limit; a write key and a read-only key."""
    tight = create_app(settings.model_copy(update={"rate_limit_per_second": 1.0}))
    async with tight.router.lifespan_context(tight):
        pg = tight.state.tracehouse.pg
        yield tight, await keys.create_key(pg, "seed-errors"), await keys.create_key(pg, "seed-errors", ("read",))


def _client(app: Any, key: str | None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers={"X-API-Key": key} if key else {})


def _detail_names(response: httpx.Response, loc: list[Any]) -> bool:
    detail = response.json()["detail"]
    return isinstance(detail, list) and detail[0]["loc"] == loc and detail[0]["msg"] and detail[0]["type"]


async def test_vellum_monitoring_events_answer_400_401_403_429(limited: tuple[Any, str, str]) -> None:
    app, key, read_key = limited
    async with _client(app, key) as writer, _client(app, read_key) as reader, _client(app, None) as anon:
        missing = [{k: v for k, v in seeds.VELLUM_CREATE_MONITORING_EVENT[0].items() if k != "trace_id"}]
        bad = await writer.post(VELLUM, json=missing)
        assert bad.status_code == 400 and _detail_names(bad, ["body", 0, "trace_id"])
        unauthorized = await anon.post(VELLUM, json=seeds.VELLUM_CREATE_MONITORING_EVENT)
        assert unauthorized.status_code == 401 and unauthorized.json()["detail"]
        forbidden = await reader.post(VELLUM, json=seeds.VELLUM_CREATE_MONITORING_EVENT)
        assert forbidden.status_code == 403 and "ingest" in forbidden.json()["detail"]
        statuses = [(await writer.post(VELLUM, json=seeds.VELLUM_CREATE_MONITORING_EVENT)).status_code
                    for _ in range(10)]  # fmt: skip
        assert 429 in statuses and set(statuses) <= {200, 429}, statuses


async def test_vellum_detail_answers_404(tenant: Tenant) -> None:
    response = await tenant.http.get("/v1/workflow-executions/no-such-execution/detail")
    assert response.status_code == 404 and response.json()["detail"]


async def test_audit_api_answers_422_in_its_shape(tenant: Tenant) -> None:
    bad_write = await tenant.http.post("/api/v1/events", json={**seeds.AUDIT_EVENT, "occurredAt": "yesterday"})
    assert bad_write.status_code == 422 and _detail_names(bad_write, ["body", "occurredAt"])
    bad_read = await tenant.http.get("/api/v1/events", params={"limit": 101})
    assert bad_read.status_code == 422 and _detail_names(bad_read, ["query", "limit"])


async def test_honeyhive_paths_answer_422_naming_the_field(tenant: Tenant) -> None:
    bad = await tenant.http.post("/v1/events", json={**seeds.HONEYHIVE_CREATE_EVENT, "event_type": "span"})
    assert bad.status_code == 422 and _detail_names(bad, ["body", "event_type"])
    logged = await tenant.http.post("/session/s/event", json={**seeds.HONEYHIVE_SESSION_LOG_EVENT, "inputs": 5})
    assert logged.status_code == 422 and _detail_names(logged, ["body", "inputs"])
    for bad_filter, key in (({"field": {}, "value": "x"}, "field"),
                            ({"field": "session_id", "operator": ["is"], "value": "x"}, "operator"),
                            ({"field": "session_id", "value": None}, "value")):  # fmt: skip
        export = await tenant.http.post("/v1/events/export", json={"filters": [bad_filter]})
        assert export.status_code == 422 and _detail_names(export, ["body", "filters", 0, key]), export.text
