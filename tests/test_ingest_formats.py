"""Each write format: the seed payloads as they are, and the spans and registries they build."""

from __future__ import annotations

import copy
import uuid

from server.state import AppState
from storage.clickhouse.spans import SpanRecord, spans_of_executions
from tests.conftest import Tenant
from tests.payloads import seeds

EVENTS = """query($f: EventFilter) { events(filter: $f, first: 100) { totalCount
  edges { node { id name source executionId spanId correlationId causationId outcome payload
                 actor { type id } resource { type id } } } } }"""


async def _spans(state: AppState, tenant: Tenant, execution_id: str) -> dict[str, SpanRecord]:
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    return {s.id: s for s in await spans_of_executions(state.ch, tenant_id, [execution_id])}


async def test_vellum_seed_list_and_single_object(tenant: Tenant, state: AppState) -> None:
    response = await tenant.http.post("/monitoring/v1/events", json=seeds.VELLUM_CREATE_MONITORING_EVENT)
    assert response.status_code == 200
    assert response.json() == {"count": 1, "success": True}
    single = {**seeds.VELLUM_CREATE_MONITORING_EVENT[0], "id": "other", "span_id": "other"}
    response = await tenant.http.post("/monitoring/v1/events", json=single)
    assert response.json() == {"count": 1, "success": True}

    data = await tenant.gql_data(EVENTS, {"f": {"executionId": "string"}})
    assert data["events"]["totalCount"] == 2
    node = next(e["node"] for e in data["events"]["edges"] if e["node"]["id"] == "string")
    assert node["name"] == "node.execution.initiated" and node["source"] == "vellum"
    assert node["payload"] == seeds.VELLUM_CREATE_MONITORING_EVENT[0]
    span = (await _spans(state, tenant, "string"))["string"]
    assert (span.name, span.kind, span.status, span.end_time) == ("string", "NODE", "RUNNING", None)
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    definition = await state.pg.fetchrow(
        "SELECT kind, name, module FROM definitions WHERE tenant_id = $1 AND id = 'string'", tenant_id
    )
    assert (definition["kind"], definition["name"], definition["module"]) == ("node", "string", '["string"]')


def _vellum(name: str, span: str, ts: str, body: dict[str, object], parent: str | None = None) -> dict[str, object]:
    event: dict[str, object] = {
        "id": str(uuid.uuid4()), "name": name, "timestamp": ts, "trace_id": "trace-1", "span_id": span, "body": body,
    }  # fmt: skip
    if parent:
        event["parent"] = {"type": "WORKFLOW", "span_id": parent}
    return event


async def test_vellum_lifecycle_in_any_order_merges_into_spans(tenant: Tenant, state: AppState) -> None:
    wf = {"workflow_definition": {"name": "Support Bot", "module": ["bots"], "id": "wf-def"}}
    node = {"node_definition": {"name": "Prompt", "module": ["bots", "prompt"], "id": "node-def"}}
    usage = {
        "usage": [{"ml_model_name": "gpt-4o", "ml_model_usage": {"input_token_count": 10, "output_token_count": 5}}],
        "cost": [{"value": 0.25, "unit": "USD"}],
    }
    events = [
        _vellum("node.execution.fulfilled", "n1", "2024-01-15T09:30:03Z", {**node, "outputs": {"text": "hi"},
                "usage_result": usage}, parent="w1"),
        _vellum("workflow.execution.initiated", "w1", "2024-01-15T09:30:00Z", {**wf, "inputs": {"q": "hello"}}),
        _vellum("node.execution.streaming", "n1", "2024-01-15T09:30:02Z", {**node, "outputs": {"text": "h"}},
                parent="w1"),
        _vellum("node.execution.initiated", "n1", "2024-01-15T09:30:01Z", {**node, "inputs": {"x": 1}}, parent="w1"),
        _vellum("node.execution.rejected", "n2", "2024-01-15T09:30:04Z",
                {**node, "error": {"message": "boom", "code": "NODE_EXECUTION"}}, parent="w1"),
    ]  # fmt: skip
    response = await tenant.http.post("/monitoring/v1/events", json=events)
    assert response.json() == {"count": 5, "success": True}
    spans = await _spans(state, tenant, "trace-1")
    w1, n1, n2 = spans["w1"], spans["n1"], spans["n2"]
    assert (w1.name, w1.kind, w1.status, w1.parent_id, w1.inputs) == (
        "Support Bot",
        "WORKFLOW",
        "RUNNING",
        "",
        '{"q":"hello"}',
    )
    assert (n1.status, n1.parent_id, n1.outputs, n1.inputs) == ("SUCCEEDED", "w1", '{"text":"hi"}', '{"x":1}')
    assert n1.start_time.isoformat() == "2024-01-15T09:30:01+00:00"
    assert n1.end_time is not None and n1.duration_ms == 2000.0
    assert (n1.input_tokens, n1.output_tokens) == (10, 5)
    assert '"gpt-4o"' in n1.usage and '"value":0.25' in n1.cost
    assert (n2.status, n2.error) == ("FAILED", '{"message":"boom","code":"NODE_EXECUTION"}')
    # the workflow ends later: the merged state follows
    done = _vellum("workflow.execution.fulfilled", "w1", "2024-01-15T09:30:05Z", {**wf, "outputs": {"a": 1}})
    await tenant.http.post("/monitoring/v1/events", json=done)
    w1 = (await _spans(state, tenant, "trace-1"))["w1"]
    assert (w1.status, w1.duration_ms, w1.outputs) == ("SUCCEEDED", 5000.0, '{"a":1}')
    outcomes = {e["node"]["name"]: e["node"]["outcome"] for e in (await tenant.gql_data(EVENTS))["events"]["edges"]}
    assert outcomes["node.execution.rejected"] == "failure"
    assert outcomes["workflow.execution.fulfilled"] == "success"
    assert outcomes["node.execution.initiated"] is None


async def test_honeyhive_create_event_seed(tenant: Tenant, state: AppState) -> None:
    response = await tenant.http.post("/v1/events", json=seeds.HONEYHIVE_CREATE_EVENT)
    assert response.status_code == 200
    assert response.json() == {"event_id": "<string>", "success": True}
    data = await tenant.gql_data(EVENTS, {"f": {"sources": ["honeyhive"]}})
    (edge,) = data["events"]["edges"]
    assert edge["node"]["executionId"] == "<string>" and edge["node"]["spanId"] == "<string>"
    assert edge["node"]["payload"]["children_ids"] == ["<string>"]
    span = (await _spans(state, tenant, "<string>"))["<string>"]
    assert (span.kind, span.status, span.name) == ("MODEL", "FAILED", "<string>")
    assert span.error == '{"message":"<string>"}'
    for kept in (
        "config",
        "metadata",
        "feedback",
        "metrics",
        "user_properties",
        "children_ids",
        "project_id",
    ):
        assert f'"{kept}"' in span.attributes


async def test_honeyhive_session_tree_usage_and_cost(tenant: Tenant, state: AppState) -> None:
    session = {"event_type": "session", "event_name": "chat", "session_id": "s-1", "inputs": {"u": "hi"},
               "start_time": 1_700_000_000_000, "user_properties": {"user": "ann"}}  # fmt: skip
    model = {"event_type": "model", "event_id": "m-1", "session_id": "s-1", "event_name": "gpt", "inputs": {"p": 1},
             "outputs": {"c": 2}, "config": {"model": "gpt-4o"}, "start_time": 1_700_000_000_100, "duration": 250,
             "metadata": {"prompt_tokens": 12, "completion_tokens": 3, "cost": 0.002}}  # fmt: skip
    tool = {"event_type": "tool", "event_id": "t-1", "session_id": "s-1", "parent_id": "m-1", "inputs": {},
            "start_time": 1_700_000_000_200, "end_time": 1_700_000_000_300}  # fmt: skip
    for body in (session, model, tool):
        response = await tenant.http.post("/v1/events", json=body)
        assert response.status_code == 200, response.text
    assert response.json() == {"event_id": "t-1", "success": True}
    spans = await _spans(state, tenant, "s-1")
    assert set(spans) == {"s-1", "m-1", "t-1"}
    assert (spans["s-1"].kind, spans["s-1"].status, spans["s-1"].parent_id) == ("SESSION", "RUNNING", "")
    assert spans["m-1"].parent_id == "s-1" and spans["t-1"].parent_id == "m-1"
    assert (spans["m-1"].input_tokens, spans["m-1"].output_tokens, spans["m-1"].duration_ms) == (12, 3, 250.0)
    assert '"model":"gpt-4o"' in spans["m-1"].usage
    assert spans["m-1"].cost == '[{"value":0.002,"unit":"USD","source":"reported"}]'


async def test_honeyhive_session_log_seed_with_children(tenant: Tenant, state: AppState) -> None:
    response = await tenant.http.post("/session/sess-9/event", json=seeds.HONEYHIVE_SESSION_LOG_EVENT)
    assert response.status_code == 200
    assert response.json() == {"event_id": "<string>", "success": True}
    spans = await _spans(state, tenant, "sess-9")
    assert len(spans) == 2
    child = next(s for s in spans.values() if s.id != "<string>")
    assert child.parent_id == "<string>"
    assert spans["<string>"].parent_id == "sess-9"


async def test_audit_single_and_list(tenant: Tenant, state: AppState) -> None:
    response = await tenant.http.post("/api/v1/events", json=seeds.AUDIT_EVENT)
    assert response.status_code == 200
    assert response.json() == {"count": 1, "success": True, "eventIds": ["string"]}
    failed = {"eventType": "automation_run.failed", "actorType": "agent", "actorId": "a-7",
              "resourceType": "automation_run", "resourceId": "r-1", "correlationId": "c-2"}  # fmt: skip
    response = await tenant.http.post(
        "/api/v1/events", json=[failed, {**failed, "eventType": "automation_run.completed"}]
    )
    body = response.json()
    assert body["count"] == 2 and len(body["eventIds"]) == 2 and all(body["eventIds"])
    data = await tenant.gql_data(EVENTS, {"f": {"sources": ["audit"]}})
    by_id = {e["node"]["id"]: e["node"] for e in data["events"]["edges"]}
    seed = by_id["string"]
    assert seed["actor"] == {"type": "user", "id": "string"}
    assert seed["resource"] == {"type": "action_run", "id": "string"}
    assert (seed["correlationId"], seed["causationId"], seed["payload"]) == ("string", "string", {})
    assert {by_id[i]["outcome"] for i in body["eventIds"]} == {"failure", "success"}
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    actors = await state.pg.fetch("SELECT type, id, first_seen, last_seen FROM actors WHERE tenant_id = $1", tenant_id)
    assert {(a["type"], a["id"]) for a in actors} == {("user", "string"), ("agent", "a-7")}
    resources = await state.pg.fetch("SELECT type, id FROM resources WHERE tenant_id = $1", tenant_id)
    assert {(r["type"], r["id"]) for r in resources} == {("action_run", "string"), ("automation_run", "r-1")}


async def test_graphql_log_spans_builds_a_tree(tenant: Tenant, state: AppState) -> None:
    mutation = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count success eventIds } }"
    spans = [
        {"id": "root", "executionId": "ex-1", "name": "agent", "kind": "agent", "startTime": "2024-01-01T00:00:00Z",
         "endTime": "2024-01-01T00:00:02Z", "inputs": {"q": "?"}, "outputs": {"a": "!"}},
        {"id": "llm", "executionId": "ex-1", "parentId": "root", "name": "call", "kind": "llm",
         "startTime": "2024-01-01T00:00:00.5Z", "endTime": "2024-01-01T00:00:01Z",
         "usage": {"model": "claude", "inputTokens": 100, "outputTokens": 20}, "cost": {"value": 0.01, "unit": "USD"}},
        {"id": "tool", "executionId": "ex-1", "parentId": "root", "name": "search", "startTime": "2024-01-01T00:00:01Z",
         "status": "failed", "error": {"message": "timeout"}},
    ]  # fmt: skip
    result = (await tenant.gql_data(mutation, {"s": spans}))["logSpans"]
    assert result["count"] == 3 and result["success"] and len(set(result["eventIds"])) == 3
    again = (await tenant.gql_data(mutation, {"s": spans}))["logSpans"]
    assert again["eventIds"] == result["eventIds"]  # the same span is the same fact
    merged = await _spans(state, tenant, "ex-1")
    assert {s.id: (s.parent_id, s.kind, s.status) for s in merged.values()} == {
        "root": ("", "AGENT", "SUCCEEDED"), "llm": ("root", "LLM", "SUCCEEDED"), "tool": ("root", "SPAN", "FAILED"),
    }  # fmt: skip
    assert merged["llm"].input_tokens == 100 and merged["llm"].pieces == 1


async def test_graphql_lifecycle_events_build_spans(tenant: Tenant, state: AppState) -> None:
    mutation = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count eventIds } }"
    events = [
        {"name": "tool.execution.initiated", "executionId": "ex-2", "spanId": "sp", "timestamp": "2024-02-01T00:00:00Z",
         "payload": {"name": "lookup", "inputs": {"id": 3}}},
        {"name": "tool.execution.fulfilled", "executionId": "ex-2", "spanId": "sp", "timestamp": "2024-02-01T00:00:01Z",
         "payload": {"outputs": {"ok": True}}},
    ]  # fmt: skip
    result = (await tenant.gql_data(mutation, {"e": copy.deepcopy(events)}))["ingestEvents"]
    assert result["count"] == 2
    span = (await _spans(state, tenant, "ex-2"))["sp"]
    assert (span.name, span.kind, span.status, span.duration_ms) == ("lookup", "TOOL", "SUCCEEDED", 1000.0)


async def test_honeyhive_children_ids_and_parent_id_agree_with_the_tree(tenant: Tenant, state: AppState) -> None:
    session = {"event_type": "session", "session_id": "s-tree", "inputs": {}, "start_time": 1_700_000_000_000}
    # the chain lists its children; the tool below does not name its parent, the model does
    chain = {"event_type": "chain", "event_id": "c-1", "session_id": "s-tree", "inputs": {}, "children_ids": ["t-1"],
             "start_time": 1_700_000_000_100, "end_time": 1_700_000_000_900}  # fmt: skip
    tool = {"event_type": "tool", "event_id": "t-1", "session_id": "s-tree", "inputs": {},
            "start_time": 1_700_000_000_200, "end_time": 1_700_000_000_300}  # fmt: skip
    model = {"event_type": "model", "event_id": "m-1", "session_id": "s-tree", "parent_id": "c-1", "inputs": {},
             "start_time": 1_700_000_000_400, "end_time": 1_700_000_000_500}  # fmt: skip
    for body in (tool, session, model, chain):  # any order
        assert (await tenant.http.post("/v1/events", json=body)).status_code == 200
    spans = await _spans(state, tenant, "s-tree")
    assert {s: spans[s].parent_id for s in ("c-1", "t-1", "m-1")} == {"c-1": "s-tree", "t-1": "c-1", "m-1": "c-1"}
    bad = {**chain, "children_ids": ["ok", 5]}
    response = await tenant.http.post("/v1/events", json=bad)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "children_ids", 1]
