"""Auth, health, migrations and the first GraphQL slice, through the ASGI app on the real stores."""

from __future__ import annotations

import httpx
import pytest

from server.state import AppState
from storage.clickhouse import migrations as ch_migrations
from storage.postgres import migrations as pg_migrations
from tests.conftest import Tenant

INGEST = """mutation($events: [EventInput!]!) { ingestEvents(events: $events) { count success eventIds } }"""
EVENT = """query($id: ID!) { event(id: $id) { id name timestamp source payload correlationId
  actor { type id } resource { type id } } }"""


async def test_healthz_needs_no_key(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_missing_and_unknown_keys_get_401_json(anon: httpx.AsyncClient) -> None:
    for headers in ({}, {"X-API-Key": "th_nope"}, {"Authorization": "Bearer th_nope"}):
        for method, path in (("GET", "/api/v1/events"), ("POST", "/graphql"), ("POST", "/monitoring/v1/events")):
            response = await anon.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers)
            assert "detail" in response.json()


async def test_bearer_and_x_api_key_both_work(tenant: Tenant) -> None:
    bearer = {"X-API-Key": "", "Authorization": f"Bearer {tenant.key}"}
    response = await tenant.http.get("/api/v1/events", headers=bearer)
    assert response.status_code == 200 and response.json()["total"] == 0


async def test_probes_need_no_key(anon: httpx.AsyncClient) -> None:
    """A load balancer's or Kubernetes' probe has no key."""
    assert (await anon.get("/healthz")).status_code == 200
    response = await anon.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "clickhouse": True, "postgres": True}


async def test_bootstrap_key_belongs_to_default_tenant(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/api/v1/events", headers={"X-API-Key": "th_bootstrap_test_key"})
    assert response.status_code == 200


async def test_graphiql_page_is_served(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_migrations_are_recorded_and_safe_to_run_twice(state: AppState) -> None:
    assert await ch_migrations.migrate(state.ch) == []
    async with state.pg.acquire() as conn:
        assert await pg_migrations.migrate(conn) == []
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")]
    assert versions == [v for v, _, _ in pg_migrations.MIGRATIONS]
    rows = (await state.ch.query("SELECT version FROM schema_migrations FINAL ORDER BY version")).rows
    assert [r[0] for r in rows] == [v for v, _, _ in ch_migrations.MIGRATIONS]
    for table in ("events", "spans"):  # migration 2: the merge policy that keeps merges from eating ingest
        create = (await state.ch.query(f"SHOW CREATE TABLE {table}")).rows[0][0]
        assert "merge_selector_base = 20" in create, create


async def test_a_tuning_statement_an_older_clickhouse_lacks_is_skipped_not_fatal(state: AppState) -> None:
    unknown = "ALTER TABLE events MODIFY SETTING no_such_merge_setting = 1"
    await ch_migrations.apply(state.ch, ch_migrations.Tuning(unknown))  # warns and carries on
    with pytest.raises(Exception, match=r"(?i)unknown setting"):
        await ch_migrations.apply(state.ch, unknown)  # anything else still stops start-up


async def test_only_a_hash_of_the_key_is_stored(tenant: Tenant, state: AppState) -> None:
    rows = await state.pg.fetch("SELECT key_hash, prefix FROM api_keys")
    assert all(tenant.key not in (r["key_hash"], r["prefix"]) for r in rows)


async def test_ingest_then_read_back(tenant: Tenant) -> None:
    events = [
        {
            "name": "schedule.fired",
            "timestamp": "2024-01-15T09:30:00Z",
            "correlationId": "corr-1",
            "actor": {"type": "schedule", "id": "nightly"},
            "resource": {"type": "automation", "id": "auto-1"},
            "payload": {"cron": "0 0 * * *"},
        }
    ]
    result = (await tenant.gql_data(INGEST, {"events": events}))["ingestEvents"]
    assert result["count"] == 1 and result["success"] is True
    (event_id,) = result["eventIds"]
    event = (await tenant.gql_data(EVENT, {"id": event_id}))["event"]
    assert event == {
        "id": event_id,
        "name": "schedule.fired",
        "timestamp": "2024-01-15T09:30:00.000000Z",
        "source": "graphql",
        "payload": {"cron": "0 0 * * *"},
        "correlationId": "corr-1",
        "actor": {"type": "schedule", "id": "nightly"},
        "resource": {"type": "automation", "id": "auto-1"},
    }


async def test_second_tenant_sees_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    ids = (await tenant.gql_data(INGEST, {"events": [{"name": "a.b"}, {"name": "c.d"}]}))["ingestEvents"]["eventIds"]
    for event_id in ids:
        assert (await other_tenant.gql_data(EVENT, {"id": event_id}))["event"] is None
    listing = await other_tenant.gql_data("{ events { totalCount edges { node { id } } } }")
    assert listing["events"] == {"totalCount": 0, "edges": []}
    mine = await tenant.gql_data("{ events { totalCount edges { node { id } } } }")
    assert mine["events"]["totalCount"] == 2


async def test_events_pages_by_keyset_cursor(tenant: Tenant) -> None:
    events = [{"name": "tick", "timestamp": f"2024-01-15T09:30:{i:02d}Z"} for i in range(7)]
    await tenant.gql_data(INGEST, {"events": events})
    query = """query($after: String) { events(first: 3, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { timestamp } } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = (await tenant.gql_data(query, {"after": after}))["events"]
        assert page["totalCount"] == 7
        seen += [e["node"]["timestamp"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"2024-01-15T09:30:{i:02d}.000000Z" for i in reversed(range(7))]


async def test_bad_cursor_and_page_size_are_graphql_errors(tenant: Tenant) -> None:
    for query in ('{ events(after: "garbage") { totalCount } }', "{ events(first: -1) { totalCount } }"):
        body = await tenant.gql(query)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
