"""The Query side of the contract: executions, spans, events, analytics; each tenant sees only its own."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.traces import INGEST, log_events, log_trace

EXECUTION = """query($id: ID!) { execution(id: $id) {
  id name kind status startTime endTime durationMs inputs outputs spanCount failed sessionId metadata
  error { message code }
  usage { inputTokens outputTokens totalTokens cacheReadInputTokens
          byModel { model inputTokens outputTokens totalTokens } }
  cost { value unit }
  actor { type id }
  rootSpans { id name children { id parentId children { id } } }
  spans(first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } }
  events(first: 2) { totalCount edges { node { name span { id } execution { id } } } }
} }"""


async def test_execution_tree_usage_and_cost(tenant: Tenant) -> None:
    await log_trace(tenant, "ex-a", count=7, depth=3, fail="s5")
    await log_events(tenant, "ex-a", count=4, span_count=7)
    ex = (await tenant.gql_data(EXECUTION, {"id": "ex-a"}))["execution"]
    assert (ex["id"], ex["name"], ex["kind"], ex["status"]) == ("ex-a", "root", "CHAIN", "SUCCEEDED")
    assert ex["startTime"] == "2024-03-01T00:00:00.000000Z" and ex["endTime"] == "2024-03-01T00:00:01.000000Z"
    assert ex["durationMs"] == 1000.0 and ex["inputs"] == {"i": 0} and ex["outputs"] == {"o": 0}
    assert (ex["spanCount"], ex["failed"], ex["sessionId"], ex["error"]) == (7, True, None, None)
    # s1 and s4 are model calls: 10 in / 2 out each, split by model; cost 0.5 each
    assert ex["usage"]["inputTokens"] == 20 and ex["usage"]["totalTokens"] == 24
    assert sorted((m["model"], m["inputTokens"]) for m in ex["usage"]["byModel"]) == [("claude", 10), ("gpt-4o", 10)]
    assert ex["cost"] == [{"value": 1.0, "unit": "USD"}]
    assert ex["actor"] == {"type": "agent", "id": "agent-0"}
    (root,) = ex["rootSpans"]
    assert root["id"] == "s0" and [c["id"] for c in root["children"]] == ["s1", "s3", "s6"]
    assert [c["id"] for c in root["children"][0]["children"]] == ["s2", "s4"]
    assert root["children"][0]["parentId"] == "s0"
    assert ex["spans"]["totalCount"] == 7 and ex["spans"]["pageInfo"]["hasNextPage"]
    assert [e["node"]["id"] for e in ex["spans"]["edges"]] == ["s0", "s1", "s2"]
    assert ex["events"]["totalCount"] == 7 + 4  # one span.logged per logged span, and the four events
    first_event = ex["events"]["edges"][0]["node"]
    assert first_event == {"name": "span.logged", "span": {"id": "s0"}, "execution": {"id": "ex-a"}}


async def test_spans_page_through_cursor(tenant: Tenant) -> None:
    await log_trace(tenant, "ex-p", count=10, depth=2)
    query = """query($after: String) { execution(id: "ex-p") { spans(first: 4, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { id } } } } }"""
    seen, after = [], None
    while True:
        page = (await tenant.gql_data(query, {"after": after}))["execution"]["spans"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"s{i}" for i in range(10)]


async def test_span_by_id_with_everything(tenant: Tenant) -> None:
    await log_trace(tenant, "ex-s", count=6, depth=3, fail="s4")
    await log_events(tenant, "ex-s", count=6, span_count=6)
    query = """{ span(executionId: "ex-s", spanId: "s4") { id executionId parentId name kind status startTime
        endTime durationMs inputs outputs attributes error { message code stacktrace rawData }
        usage { inputTokens outputTokens byModel { model } } cost { value unit }
        parent { id } children { id } events { name payload } execution { id spanCount } } }"""
    span = (await tenant.gql_data(query))["span"]
    assert (span["id"], span["parentId"], span["status"], span["kind"]) == ("s4", "s1", "FAILED", "LLM")
    assert span["error"] == {"message": "boom", "code": "E1", "stacktrace": None, "rawData": None}
    assert span["usage"] == {"inputTokens": 10, "outputTokens": 2, "byModel": [{"model": "claude"}]}
    assert span["cost"] == [{"value": 0.5, "unit": "USD"}]
    assert span["parent"] == {"id": "s1"} and span["children"] == []
    assert [e["name"] for e in span["events"]] == ["span.logged", "tool.call.noted"]
    assert span["execution"] == {"id": "ex-s", "spanCount": 6}
    missing = await tenant.gql_data('{ span(executionId: "ex-s", spanId: "nope") { id } }')
    assert missing["span"] is None


async def test_executions_filters_and_paging(tenant: Tenant) -> None:
    await log_trace(tenant, "ok-1", count=3, depth=2)
    await log_trace(tenant, "bad-1", count=3, depth=2, fail="s2")
    await log_trace(tenant, "bad-2", count=3, depth=2, fail="s0")
    await tenant.gql_data(
        'mutation { ingestEvents(events: [{name: "workflow.execution.initiated", executionId: "run-1", '
        'spanId: "w", timestamp: "2024-05-01T00:00:00Z", actor: {type: "user", id: "u1"}, '
        'payload: {name: "Nightly Report"}}]) { count } }'
    )
    query = """query($f: ExecutionFilter, $after: String) { executions(filter: $f, first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id status } } } }"""

    async def ids(f: dict[str, object] | None) -> list[str]:
        out, after = [], None
        while True:
            page = (await tenant.gql_data(query, {"f": f, "after": after}))["executions"]
            out += [e["node"]["id"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return out
            after = page["pageInfo"]["endCursor"]

    assert await ids(None) == ["run-1", "ok-1", "bad-2", "bad-1"] or sorted(await ids(None)) == sorted(
        ["run-1", "ok-1", "bad-1", "bad-2"]
    )
    assert sorted(await ids({"failed": True})) == ["bad-1", "bad-2"]
    assert sorted(await ids({"failed": False})) == ["ok-1", "run-1"]
    assert await ids({"statuses": ["FAILED"]}) == ["bad-2"]
    assert await ids({"statuses": ["RUNNING"]}) == ["run-1"]
    assert await ids({"nameContains": "nightly"}) == ["run-1"]
    assert await ids({"name": "root", "kinds": ["chain"], "failed": False}) == ["ok-1"]
    assert await ids({"actorType": "user", "actorId": "u1"}) == ["run-1"]
    assert await ids({"from": "2024-04-01T00:00:00Z"}) == ["run-1"]
    assert sorted(await ids({"to": "2024-04-01T00:00:00Z"})) == ["bad-1", "bad-2", "ok-1"]
    assert await ids({"sessionId": "ok-1"}) == ["ok-1"]
    total = (await tenant.gql_data("{ executions { totalCount } }"))["executions"]["totalCount"]
    assert total == 4


async def test_event_queries_and_analytics(tenant: Tenant) -> None:
    audit = [
        {"eventType": "automation_run.completed", "actorType": "agent", "actorId": "a1", "resourceType": "automation",
         "resourceId": "r1", "correlationId": "c1", "occurredAt": "2024-06-01T00:00:00Z"},
        {"eventType": "automation_run.failed", "actorType": "agent", "actorId": "a1", "resourceType": "automation",
         "resourceId": "r1", "correlationId": "c1", "occurredAt": "2024-06-01T00:00:01Z"},
        {"eventType": "schedule.fired", "actorType": "schedule", "actorId": "nightly", "resourceType": "automation",
         "resourceId": "r2", "correlationId": "c2", "occurredAt": "2024-06-02T00:00:00Z"},
        {"eventType": "note", "occurredAt": "2024-06-03T00:00:00Z"},
    ]  # fmt: skip
    ids = (await tenant.http.post("/api/v1/events", json=audit)).json()["eventIds"]
    await tenant.gql_data(INGEST, {"e": [{"name": "x.caused", "causationId": ids[2], "correlationId": "c2"}]})
    data = await tenant.gql_data("""{
      byCorr: eventsByCorrelation(correlationId: "c1") { totalCount edges { node { name } } }
      byRes: eventsByResource(resourceType: "automation", resourceId: "r1") { totalCount }
      agg: eventAggregates { total byEventType { key count } byActorType { key count } byResourceType { key count } }
      aggRange: eventAggregates(from: "2024-06-02T00:00:00Z", to: "2024-06-03T00:00:00Z") { total }
      stats: actorStats { actorType actorId successes failures total actor { displayName } }
      actor(type: "agent", id: "a1") { type id firstSeen lastSeen
        events(first: 1) { totalCount edges { node { name } } } stats { successes failures total } }
      resource(type: "automation", id: "r2") { id events { edges { node { name actor { id } } } } }
      unknown: actor(type: "agent", id: "nobody") { id }
      caused: events(filter: {names: ["x.caused"]}) { edges { node { causedBy { name } } } }
    }""")
    assert [e["node"]["name"] for e in data["byCorr"]["edges"]] == ["automation_run.completed", "automation_run.failed"]
    assert data["byCorr"]["totalCount"] == 2 and data["byRes"]["totalCount"] == 2
    agg = data["agg"]
    assert agg["total"] == 5
    assert {k["key"]: k["count"] for k in agg["byActorType"]} == {"agent": 2, "schedule": 1}
    assert {k["key"]: k["count"] for k in agg["byResourceType"]} == {"automation": 3}
    assert {k["key"] for k in agg["byEventType"]} == {
        "automation_run.completed", "automation_run.failed", "schedule.fired", "note", "x.caused",
    }  # fmt: skip
    assert data["aggRange"]["total"] == 1
    assert data["stats"][0] == {"actorType": "agent", "actorId": "a1", "successes": 1, "failures": 1, "total": 2,
                                "actor": {"displayName": None}}  # fmt: skip
    actor = data["actor"]
    assert actor["events"]["totalCount"] == 2 and actor["events"]["edges"] == [
        {"node": {"name": "automation_run.failed"}}
    ]
    assert actor["stats"] == {"successes": 1, "failures": 1, "total": 2}
    assert actor["firstSeen"] == "2024-06-01T00:00:00.000000Z" and actor["lastSeen"] == "2024-06-01T00:00:01.000000Z"
    assert data["resource"]["events"]["edges"] == [{"node": {"name": "schedule.fired", "actor": {"id": "nightly"}}}]
    assert data["unknown"] is None
    assert data["caused"]["edges"] == [{"node": {"causedBy": {"name": "schedule.fired"}}}]


async def test_second_tenant_sees_none_of_it(tenant: Tenant, other_tenant: Tenant) -> None:
    await log_trace(tenant, "secret", count=4, depth=2)
    await log_events(tenant, "secret", count=3, span_count=4)
    audit = {"eventType": "x", "actorType": "user", "actorId": "u", "resourceType": "doc", "resourceId": "d",
             "correlationId": "k"}  # fmt: skip
    await tenant.http.post("/api/v1/events", json=audit)
    data = await other_tenant.gql_data("""{
      execution(id: "secret") { id }
      executions { totalCount edges { node { id } } }
      span(executionId: "secret", spanId: "s0") { id }
      events { totalCount }
      eventsByCorrelation(correlationId: "k") { totalCount }
      eventsByResource(resourceType: "doc", resourceId: "d") { totalCount }
      eventAggregates { total byEventType { key } }
      actorStats { actorId }
      actor(type: "user", id: "u") { id }
      resource(type: "doc", id: "d") { id }
    }""")
    assert data == {
        "execution": None, "executions": {"totalCount": 0, "edges": []}, "span": None, "events": {"totalCount": 0},
        "eventsByCorrelation": {"totalCount": 0}, "eventsByResource": {"totalCount": 0},
        "eventAggregates": {"total": 0, "byEventType": []}, "actorStats": [], "actor": None, "resource": None,
    }  # fmt: skip
