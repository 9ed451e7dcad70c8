"""/metrics: readable only with the metrics token (the counters span every tenant), with labels whose
number stays bounded whatever operation names clients send."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Tenant
from tests.process import ServerProcess

KEY = "th_metrics_tenant_admin_key"
TOKEN = "th_metrics_scrape_token"
MAX_OPERATIONS = 20


async def test_without_a_token_metrics_are_off_even_for_an_admin_key(tenant: Tenant) -> None:
    response = await tenant.http.get("/metrics")  # the tenant's key has every scope, admin included
    assert response.status_code == 403
    assert "TRACEHOUSE_METRICS_TOKEN" in response.json()["detail"]
    assert "tracehouse_requests_total" not in response.text


def _series(text: str) -> list[tuple[str, dict[str, str]]]:
    return [(s.name, s.labels) for family in text_string_to_metric_families(text) for s in family.samples]


def test_metrics_token_tenant_keys_and_bounded_operation_labels(tmp_path: Path, database_url: str) -> None:
    env = {
        "TRACEHOUSE_DATABASE_URL": database_url,
        "TRACEHOUSE_METRICS_TOKEN": TOKEN,
        "TRACEHOUSE_METRICS_MAX_OPERATIONS": str(MAX_OPERATIONS),
        "TRACEHOUSE_RATE_LIMIT_PER_SECOND": "0",
    }
    server = ServerProcess(tmp_path / "data", KEY, env)
    server.start()
    try:
        with server.client() as client, httpx.Client(base_url=server.url) as anon:
            # Tenant keys, however privileged, and no credentials at all: refused.
            assert client.get("/metrics").status_code == 401
            assert client.get("/metrics", headers={"Authorization": f"Bearer {KEY}"}).status_code == 401
            assert anon.get("/metrics").status_code == 401
            assert anon.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401

            assert client.post("/api/v1/events", json={"eventType": "metric.test"}).status_code == 200
            assert client.post("/api/v1/events", json={"eventType": 5}).status_code == 422
            for i in range(300):  # 300 distinct operation names
                body = client.post("/graphql", json={"query": f"query Op{i} {{ events(first: 1) {{ totalCount }} }}"})
                assert body.status_code == 200 and "errors" not in body.json()

            scraped = anon.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
        series = _series(scraped.text)
        rest = {"route": "/api/v1/events", "method": "POST", "operation": "", "status": "200"}
        assert ("tracehouse_requests_total", rest) in series
        assert ("tracehouse_rejected_inputs_total", {"route": "/api/v1/events"}) in series
        assert any(name == "tracehouse_request_duration_seconds_bucket" for name, _ in series)
        for name in ("events_ingested_total", "clickhouse_inserts_total", "postgres_restarts_total",
                     "group_commit_seconds_total", "live_publish_seconds_total"):
            assert (f"tracehouse_{name}", {}) in series
        assert ("tracehouse_open_subscriptions", {}) in series
        operations = {labels["operation"] for _, labels in series if "operation" in labels}
        named = operations - {"", "other"}
        assert len(named) == MAX_OPERATIONS and "query Op0" in named and "other" in operations
        graphql_requests = [
            labels for name, labels in series if name == "tracehouse_requests_total" and labels["route"] == "/graphql"
        ]
        assert sum(1 for labels in graphql_requests if labels["operation"] == "other") == 1
        # One request series and 14 histogram series per kept operation: 300 names would have made ~4,500.
        assert len(series) < 25 * (MAX_OPERATIONS + 5), len(series)
    finally:
        server.stop()
