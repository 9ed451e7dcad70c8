"""Deleting data through a real `tracehouse serve`: after the response the deleted rows are gone from every
read path (GraphQL lists and nodes, search, analytics, the REST views, subscriptions resumed from a cursor
older than the deletion), another tenant's data is untouched, and only an `admin` key may delete."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from storage.postgres import keys
from tests.process import ServerProcess
from tests.ws_client import GraphQLWS

BOOTSTRAP = "th_delete_test_bootstrap"
METRICS_TOKEN = "th_delete_test_metrics"
LOG_SPANS = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }"
INGEST = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count eventIds } }"
DELETION = "id target filter state keyId requestedAt finishedAt events executions"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[ServerProcess]:
    proc = ServerProcess(
        tmp_path_factory.mktemp("deletes"),
        BOOTSTRAP,
        {"TRACEHOUSE_DATABASE_URL": database_url, "TRACEHOUSE_METRICS_TOKEN": METRICS_TOKEN},
    )
    proc.start()
    yield proc
    proc.stop()


async def new_key(database_url: str, tenant: str, scopes: tuple[str, ...] = ("admin",)) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        return await keys.create_key(conn, tenant, scopes)
    finally:
        await conn.close()


class Client:
    def __init__(self, server: ServerProcess, key: str) -> None:
        self.server, self.key = server, key
        self.http = httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}, timeout=30)

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.gql(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def ws(self) -> GraphQLWS:
        ws = GraphQLWS(self.server.url)
        await ws.connect({"apiKey": self.key})
        return ws


@pytest.fixture
async def tenants(server: ServerProcess, database_url: str) -> AsyncIterator[tuple[Client, Client]]:
    """Two fresh tenants with admin keys."""
    suffix = uuid.uuid4().hex[:8]
    owner = Client(server, await new_key(database_url, f"del-{suffix}"))
    other = Client(server, await new_key(database_url, f"del-other-{suffix}"))
    yield owner, other
    await owner.http.aclose()
    await other.http.aclose()


async def log_execution(client: Client, execution: str, secret: str, actor: str, resource: str) -> list[str]:
    """An execution of two spans and an audit event about a resource; returns the audit event's id."""
    spans = [
        {"id": "root", "executionId": execution, "name": "plan", "kind": "WORKFLOW", "status": "SUCCEEDED",
         "startTime": "2026-11-01T10:00:00Z", "endTime": "2026-11-01T10:00:05Z", "inputs": {"q": secret}},
        {"id": "child", "executionId": execution, "parentId": "root", "name": "llm.call", "kind": "LLM",
         "status": "SUCCEEDED", "startTime": "2026-11-01T10:00:01Z", "endTime": "2026-11-01T10:00:02Z",
         "usage": {"input_tokens": 10, "output_tokens": 5}},
    ]  # fmt: skip
    await client.data(LOG_SPANS, {"s": spans})
    event = {"name": "doc.read", "executionId": execution, "timestamp": "2026-11-01T10:00:03Z",
             "actor": {"type": "user", "id": actor}, "resource": {"type": "doc", "id": resource},
             "correlationId": f"corr-{execution}", "payload": {"secret": secret}}  # fmt: skip
    return (await client.data(INGEST, {"e": [event]}))["ingestEvents"]["eventIds"]


READS = """query($id: ID!, $nodeIds: [ID!]!, $search: String!) {
  execution(id: $id) { id }
  span(executionId: $id, spanId: "root") { id }
  executions(first: 100) { edges { node { id } } }
  bySearch: executions(filter: {search: $search}) { totalCount }
  events(filter: {executionId: $id}) { totalCount edges { node { id } } }
  allEvents: events(first: 1000) { edges { node { executionId } } }
  nodes(ids: $nodeIds) { __typename }
  eventAggregates { total }
  actorStats { actorId total }
  actor(type: "user", id: "ann") { id }
  resource(type: "doc", id: "d-del") { id }
  searchSpans(search: $search) { edges { node { id } } }
  metrics(from: "2026-11-01T00:00:00Z", to: "2026-11-02T00:00:00Z", bucket: DAY) { series { points { count } } }
}"""


async def reads(client: Client, execution: str, node_ids: list[str], search: str) -> dict[str, Any]:
    return await client.data(READS, {"id": execution, "nodeIds": node_ids, "search": search})


async def test_a_deleted_execution_is_gone_from_every_read_path(tenants: tuple[Client, Client]) -> None:
    owner, other = tenants
    # A subscriber that was following before the deletion: its cursors predate it.
    open_before = await open_subscriptions(owner)
    ws = await owner.ws()
    await ws.subscribe("subscription { events { id executionId cursor } }")
    await ws.subscribe('subscription { executionUpdates(executionId: "x-del") { span { id } cursor } }')
    assert await open_subscriptions(owner, open_before + 2) == open_before + 2
    deleted_event = (await log_execution(owner, "x-del", "zebra", "ann", "d-del"))[0]
    await log_execution(owner, "x-keep", "okapi", "bob", "d-keep")
    await log_execution(other, "x-del", "zebra", "ann", "d-del")
    got = [await ws.data() for _ in range(8)]  # 3 events of each execution and 2 span updates of x-del
    events_cursor = next(g["events"]["cursor"] for g in got if "events" in g and g["events"]["executionId"] == "x-del")
    updates_cursor = next(g["executionUpdates"]["cursor"] for g in got if "executionUpdates" in g)
    await ws.close()

    nodes = await owner.data('{ execution(id: "x-del") { nodeId events { edges { node { nodeId } } } } }')
    node_ids = [nodes["execution"]["nodeId"], *(e["node"]["nodeId"] for e in nodes["execution"]["events"]["edges"])]
    before = await reads(owner, "x-del", node_ids, "zebra")
    assert before["execution"] and before["bySearch"]["totalCount"] == 1 and before["actor"]

    deleted = await owner.data(f'mutation {{ deleteExecutions(ids: ["x-del", "never-was"]) {{ {DELETION} }} }}')
    record = deleted["deleteExecutions"]
    assert record["state"] == "DONE" and record["target"] == "EXECUTIONS" and record["finishedAt"]
    assert (record["executions"], record["events"]) == (1, 3)
    assert record["filter"] == {"ids": ["never-was", "x-del"]}

    after = await reads(owner, "x-del", node_ids, "zebra")
    assert after["execution"] is None and after["span"] is None
    assert [e["node"]["id"] for e in after["executions"]["edges"]] == ["x-keep"]
    assert after["bySearch"]["totalCount"] == 0 and after["searchSpans"]["edges"] == []
    assert after["events"] == {"totalCount": 0, "edges": []}
    assert {e["node"]["executionId"] for e in after["allEvents"]["edges"]} == {"x-keep"}
    assert after["nodes"] == [None] * len(node_ids)
    assert after["eventAggregates"]["total"] == before["eventAggregates"]["total"] - 3
    assert [a["actorId"] for a in after["actorStats"]] == ["bob"]
    assert after["actor"] is None and after["resource"] is None  # the registries forget who only had deleted data
    counts = [p["count"] for s in after["metrics"]["series"] for p in s["points"]]
    assert sum(counts) == sum(p["count"] for s in before["metrics"]["series"] for p in s["points"]) - 2

    # the REST views of the same model
    rest = owner.http
    assert (await rest.get(f"/api/v1/events/{deleted_event}")).status_code == 404
    assert (await rest.get("/v1/workflow-executions/x-del/detail")).status_code == 404
    listed = (await rest.get("/api/v1/events", params={"resource_type": "doc", "resource_id": "d-del"})).json()
    assert listed["total"] == 0 and listed["events"] == []
    assert (await rest.get("/api/v1/events/correlation/corr-x-del")).json()["total"] == 0
    by_actor = (await rest.get("/api/v1/events/stats/by-actor")).json()["actors"]
    assert [a["actorId"] for a in by_actor] == ["bob"]

    # subscriptions resumed from cursors older than the deletion replay none of it, but what came after
    ws = await owner.ws()
    await ws.subscribe("subscription($a: String) { events(after: $a) { executionId } }", {"a": events_cursor})
    await ws.subscribe(
        'subscription($a: String) { executionUpdates(executionId: "x-del", after: $a) { span { id } } }',
        {"a": updates_cursor},
    )
    replayed = [(await ws.data())["events"]["executionId"] for _ in range(3)]
    assert replayed == ["x-keep"] * 3  # the kept execution's events, in the order they came, and nothing deleted
    await owner.data(INGEST, {"e": [{"name": "after.delete", "executionId": "x-del", "spanId": "late"}]})
    late = [await ws.data() for _ in range(2)]  # one item on each subscription, in either order
    assert {"events": {"executionId": "x-del"}} in late  # new data under the same id is kept
    assert {"executionUpdates": {"span": {"id": "late"}}} in late  # its first update: nothing was replayed
    await ws.close()

    # the other tenant's execution of the same id is untouched
    theirs = await reads(other, "x-del", [], "zebra")
    assert theirs["execution"] == {"id": "x-del"} and theirs["events"]["totalCount"] == 3
    assert theirs["actor"] == {"id": "ann"} and theirs["bySearch"]["totalCount"] == 1

    listed_deletions = (await owner.data(f"{{ deletions {{ {DELETION} }} }}"))["deletions"]
    assert listed_deletions == [record]


async def open_subscriptions(client: Client, want: int | None = None, timeout: float = 10) -> int:  # noqa: ASYNC109
    """Live subscriptions open in the server (its /metrics gauge; a subscription counts once it listens on the
    bus), polled until there are `want` of them or `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while True:
        metrics = (await client.http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).text
        gauge = next(line for line in metrics.splitlines() if line.startswith("tracehouse_open_subscriptions "))
        count = int(float(gauge.split()[1]))
        if want is None or count == want or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.05)


async def test_delete_events_by_filter_keeps_what_it_does_not_name(tenants: tuple[Client, Client]) -> None:
    owner, other = tenants
    events = [
        {"name": "login", "timestamp": f"2026-10-0{day}T12:00:00Z", "actor": {"type": "user", "id": actor}}
        for day in (1, 2, 3) for actor in ("ann", "bob")
    ]  # fmt: skip
    for client in (owner, other):
        await client.data(INGEST, {"e": events})
    f = {"actorType": "user", "actorId": "ann", "from": "2026-10-02T00:00:00Z"}
    done = (await owner.data(f"mutation($f: DeleteEventsFilter!) {{ deleteEvents(filter: $f) {{ {DELETION} }} }}",
                             {"f": f}))["deleteEvents"]  # fmt: skip
    assert (done["events"], done["executions"], done["target"]) == (2, 0, "EVENTS")
    assert done["filter"] == {"actorType": "user", "actorId": "ann", "from": "2026-10-02T00:00:00+00:00"}
    left = await owner.data("{ events(first: 100) { edges { node { timestamp actor { id } } } } }")
    kept = sorted((e["node"]["actor"]["id"], e["node"]["timestamp"][:10]) for e in left["events"]["edges"])
    assert kept == [("ann", "2026-10-01"), ("bob", "2026-10-01"), ("bob", "2026-10-02"), ("bob", "2026-10-03")]
    assert (await owner.data('{ actor(type: "user", id: "ann") { id } }'))["actor"] == {"id": "ann"}  # still has one
    assert (await other.data("{ events { totalCount } }"))["events"]["totalCount"] == 6

    everything = (await owner.data("mutation { deleteEvents(filter: {all: true}) { events } }"))["deleteEvents"]
    assert everything["events"] == 4
    assert (await owner.data("{ events { totalCount } }"))["events"]["totalCount"] == 0
    assert (await other.data("{ events { totalCount } }"))["events"]["totalCount"] == 6


async def test_delete_executions_by_filter(tenants: tuple[Client, Client]) -> None:
    owner, other = tenants
    for client in (owner, other):
        await log_execution(client, "f-1", "a", "ann", "d-1")
        await log_execution(client, "f-2", "b", "bob", "d-2")
        failed = {"id": "r", "executionId": "f-3", "name": "plan", "status": "FAILED",
                  "startTime": "2026-11-01T11:00:00Z", "endTime": "2026-11-01T11:00:01Z"}  # fmt: skip
        await client.data(LOG_SPANS, {"s": [failed]})
    by_resource = await owner.data(
        'mutation { deleteExecutionsByFilter(filter: {resourceType: "doc", resourceId: "d-2"}) { executions events } }'
    )
    assert by_resource["deleteExecutionsByFilter"] == {"executions": 1, "events": 3}
    by_status = await owner.data("mutation { deleteExecutionsByFilter(filter: {statuses: [FAILED]}) { executions } }")
    assert by_status["deleteExecutionsByFilter"] == {"executions": 1}
    query = "{ executions { edges { node { id } } } }"
    assert [e["node"]["id"] for e in (await owner.data(query))["executions"]["edges"]] == ["f-1"]
    assert len((await other.data(query))["executions"]["edges"]) == 3


async def test_only_admin_keys_delete_and_empty_filters_are_refused(
    server: ServerProcess, database_url: str, tenants: tuple[Client, Client]
) -> None:
    owner, _ = tenants
    await log_execution(owner, "guarded", "x", "ann", "d")
    name = await _tenant_name(database_url, owner.key)
    for scopes in (("read",), ("ingest",), ("read", "ingest")):
        limited = Client(server, await new_key(database_url, name, scopes))
        body = await limited.gql('mutation { deleteExecutions(ids: ["guarded"]) { events } }')
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (scopes, body)
        if "read" in scopes:
            denied = await limited.gql("{ deletions { id } }")
            assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        await limited.http.aclose()
    assert (await owner.data('{ execution(id: "guarded") { id } }'))["execution"] == {"id": "guarded"}

    for mutation, field in (
        ("deleteEvents(filter: {})", "filter"),
        ('deleteExecutionsByFilter(filter: {statuses: [], name: ""})', "filter"),
        ("deleteExecutionsByFilter(filter: {})", "filter"),
        ('deleteEvents(filter: {all: true, actorId: "ann"})', "filter.all"),
        ('deleteEvents(filter: {from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z"})', "filter.to"),
        ("deleteExecutions(ids: [])", "ids"),
        ('deleteEvents(filter: {names: ["a\\u0000b"]})', "filter.names"),
        ('deleteExecutions(ids: ["a\\u0000b"])', "ids"),
    ):
        body = await owner.gql(f"mutation {{ {mutation} {{ events }} }}")
        assert body.get("data") is None and body["errors"], (mutation, body)
        if field is not None:
            assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, body
    assert (await owner.data('{ execution(id: "guarded") { id } }'))["execution"] == {"id": "guarded"}
    assert (await owner.data("{ deletions { id } }"))["deletions"] == []


async def _tenant_name(database_url: str, key: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        principal = await keys.find_principal(conn, key)
        assert principal is not None
        return principal.tenant_name
    finally:
        await conn.close()
