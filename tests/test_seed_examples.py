"""The seed documents' own examples, sent verbatim to their paths in one tenant: each is accepted and reads
back intact although they share placeholder ids ("string" is the Vellum event's, the audit event's and here
a GraphQL event's id): an event id belongs to its format. The same id sent again by one format is still one
event. The audit view lists only events in the audit document's shape."""

from __future__ import annotations

import urllib.parse

import httpx

from tests.conftest import Tenant
from tests.payloads import seeds

EVENT = """query($id: ID!, $s: String) { event(id: $id, source: $s) { id name source nodeId payload
  actor { type id } } }"""
NODE = "query($id: ID!) { node(id: $id) { ... on Event { id source payload } } }"
BY_SOURCE = "query($s: [String!]) { events(filter: {sources: $s}) { totalCount edges { node { id name } } } }"
GRAPHQL_EVENT = {"id": "string", "name": "deploy.started", "actor": {"type": "service", "id": "ci"},
                 "payload": {"by": "graphql"}}  # fmt: skip
INGEST = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }"


async def _send_every_seed(tenant: Tenant) -> None:
    vellum = await tenant.http.post("/monitoring/v1/events", json=seeds.VELLUM_CREATE_MONITORING_EVENT)
    assert vellum.status_code == 200
    assert (await tenant.http.post("/api/v1/events", json=seeds.AUDIT_EVENT)).status_code == 200
    assert (await tenant.http.post("/v1/events", json=seeds.HONEYHIVE_CREATE_EVENT)).status_code == 200
    await tenant.gql_data(INGEST, {"e": [GRAPHQL_EVENT]})


async def test_every_seed_example_reads_back_although_they_share_ids(tenant: Tenant) -> None:
    await _send_every_seed(tenant)
    vellum = (await tenant.gql_data(EVENT, {"id": "string", "s": "vellum"}))["event"]
    assert vellum["payload"] == seeds.VELLUM_CREATE_MONITORING_EVENT[0] and vellum["name"] == "node.execution.initiated"
    audit = (await tenant.gql_data(EVENT, {"id": "string", "s": "audit"}))["event"]
    assert audit["payload"] == {} and audit["actor"] == {"type": "user", "id": "string"}
    graphql = (await tenant.gql_data(EVENT, {"id": "string", "s": "graphql"}))["event"]
    assert graphql["payload"] == {"by": "graphql"}
    honeyhive = (await tenant.gql_data(EVENT, {"id": "<string>", "s": "honeyhive"}))["event"]
    assert honeyhive["payload"]["children_ids"] == ["<string>"]
    # without a source: the newest of them (the audit seed's occurredAt is 2019, Vellum's 2024, GraphQL's now)
    assert (await tenant.gql_data(EVENT, {"id": "string"}))["event"]["source"] == "graphql"
    # each has its own node id, and it finds that one
    node_ids = {vellum["nodeId"], audit["nodeId"], graphql["nodeId"]}
    assert len(node_ids) == 3
    for event in (vellum, audit, graphql):
        assert (await tenant.gql_data(NODE, {"id": event["nodeId"]}))["node"]["source"] == event["source"]
    # the REST views read their own format's event
    rest = (await tenant.http.get("/api/v1/events/string")).json()
    assert rest["occurredAt"].startswith("2019-08-24T14:15:22")  # the same instant, with microseconds
    assert rest == {**seeds.AUDIT_EVENT, "tenantId": rest["tenantId"], "occurredAt": rest["occurredAt"]}
    detail = await tenant.http.get("/v1/workflow-executions/string/detail")
    assert detail.status_code == 200, detail.text
    spans = (await tenant.gql_data('{ execution(id: "<string>") { spans(first: 10) { edges { node { id kind } } } } }'))
    assert {"id": "<string>", "kind": "MODEL"} in [e["node"] for e in spans["execution"]["spans"]["edges"]]


async def test_an_id_sent_again_by_its_own_format_is_one_event(tenant: Tenant) -> None:
    await _send_every_seed(tenant)
    await _send_every_seed(tenant)
    for source, count in (("vellum", 1), ("audit", 1), ("honeyhive", 1), ("graphql", 1)):
        found = (await tenant.gql_data(BY_SOURCE, {"s": [source]}))["events"]
        assert found["totalCount"] == count, (source, found)


async def test_the_honeyhive_update_finds_honeyhives_event_not_anothers_with_its_id(tenant: Tenant) -> None:
    vellum = [{**seeds.VELLUM_CREATE_MONITORING_EVENT[0], "trace_id": "v-trace", "span_id": "shared"}]
    assert (await tenant.http.post("/monitoring/v1/events", json=vellum)).status_code == 200
    update = await tenant.http.put("/events", json={"event_id": "shared", "metadata": {"a": 1}})
    assert update.status_code == 404  # a Vellum span is not a HoneyHive event
    event = {**seeds.HONEYHIVE_CREATE_EVENT, "event_id": "shared", "session_id": "h-session"}
    assert (await tenant.http.post("/v1/events", json=event)).status_code == 200
    assert (await tenant.http.put("/events", json={"event_id": "shared", "metadata": {"a": 1}})).status_code == 200
    query = 'query($e: ID!) { span(executionId: $e, spanId: "shared") { attributes } }'
    assert (await tenant.gql_data(query, {"e": "h-session"}))["span"]["attributes"]["metadata"] == {"a": 1}
    assert "metadata" not in (await tenant.gql_data(query, {"e": "v-trace"}))["span"]["attributes"]


async def test_the_audit_view_lists_documented_shapes_only(tenant: Tenant) -> None:
    await _send_every_seed(tenant)
    session = urllib.parse.quote(seeds.HONEYHIVE_SESSION_LOG_EVENT["session_id"], safe="")
    logged = await tenant.http.post(f"/session/{session}/event", json=seeds.HONEYHIVE_SESSION_LOG_EVENT)
    assert logged.status_code == 200
    listed = (await tenant.http.get("/api/v1/events")).json()
    assert {(e["eventType"], e["id"]) for e in listed["events"]} == {("schedule.fired", "string"),
                                                                     ("deploy.started", "string")}  # fmt: skip
    assert listed["total"] == 2 and all(e["actorType"] and e["actorId"] for e in listed["events"])
    aggregate = (await tenant.http.get("/api/v1/events/aggregate")).json()
    assert aggregate["total"] == 2
    assert {a["key"] for a in aggregate["byEventType"]} == {"schedule.fired", "deploy.started"}
    # the trace formats' events are not audit events, by id either
    assert (await tenant.http.get("/api/v1/events/%3Cstring%3E")).status_code == 404
    correlated = (await tenant.http.get("/api/v1/events/correlation/string")).json()
    assert [e["eventType"] for e in correlated["events"]] == ["schedule.fired"]


async def test_the_vai_token_cookie_authenticates_every_audit_route(tenant: Tenant, anon: httpx.AsyncClient) -> None:
    await _send_every_seed(tenant)
    routes = ["/api/v1/events", "/api/v1/events/aggregate", "/api/v1/events/correlation/string",
              "/api/v1/events/resource/action_run/string", "/api/v1/events/stats/by-actor",
              "/api/v1/events/string"]  # fmt: skip
    for route in routes:
        assert (await anon.get(route)).status_code == 401, route
        response = await anon.get(route, headers={"Cookie": f"vai_token={tenant.key}"})
        assert response.status_code == 200, (route, response.text)
    stats = (await anon.get("/api/v1/events/stats/by-actor", headers={"Cookie": f"vai_token={tenant.key}"})).json()
    assert {(a["actorType"], a["actorId"]) for a in stats["actors"]} == {("user", "string"), ("service", "ci")}


async def test_paging_keeps_both_formats_events_with_one_id_and_time(tenant: Tenant) -> None:
    at = "2024-05-01T00:00:00Z"
    audit = {"id": "dup", "eventType": "x.happened", "occurredAt": at, "actorType": "user", "actorId": "u"}
    assert (await tenant.http.post("/api/v1/events", json=audit)).status_code == 200
    await tenant.gql_data(INGEST, {"e": [{"id": "dup", "name": "x.happened", "timestamp": at}]})
    page = """query($after: String, $o: EventOrder) { events(first: 1, after: $after, orderBy: $o) {
      edges { cursor node { id source } } pageInfo { hasNextPage } } }"""
    for order in ({"field": "TIMESTAMP", "direction": "DESC"}, {"field": "NAME", "direction": "ASC"}):
        seen, after = [], None
        while True:
            events = (await tenant.gql_data(page, {"after": after, "o": order}))["events"]
            seen += [e["node"]["source"] for e in events["edges"]]
            if not events["pageInfo"]["hasNextPage"]:
                break
            after = events["edges"][-1]["cursor"]
        assert sorted(seen) == ["audit", "graphql"], (order, seen)
    execution_events = """{ actor(type: "user", id: "u") { events(first: 1) { edges { node { source } } } } }"""
    assert (await tenant.gql_data(execution_events))["actor"]["events"]["edges"] == [{"node": {"source": "audit"}}]
    vellum = {"id": "dup2", "name": "node.execution.initiated", "timestamp": at, "trace_id": "x-dup", "span_id": "s"}
    assert (await tenant.http.post("/monitoring/v1/events", json=vellum)).status_code == 200
    await tenant.gql_data(INGEST, {"e": [{"id": "dup2", "name": "note", "timestamp": at, "executionId": "x-dup"}]})
    nested = """query($after: String) { execution(id: "x-dup") { events(first: 1, after: $after) {
      edges { cursor node { source } } pageInfo { hasNextPage } } } }"""
    first = (await tenant.gql_data(nested))["execution"]["events"]
    second = (await tenant.gql_data(nested, {"after": first["edges"][0]["cursor"]}))["execution"]["events"]
    assert first["pageInfo"]["hasNextPage"] and not second["pageInfo"]["hasNextPage"]
    assert sorted(e["node"]["source"] for e in first["edges"] + second["edges"]) == ["graphql", "vellum"]
