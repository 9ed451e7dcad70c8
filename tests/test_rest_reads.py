"""The compatible read paths answer in the seed documents' shapes, scoped to the caller's tenant."""

from __future__ import annotations

import uuid

from tests.conftest import Tenant
from tests.payloads import seeds

DETAIL_KEYS = {"span_id", "parent_context", "start", "end", "inputs", "outputs", "error", "usage_results", "spans",
               "state"}  # fmt: skip
SPAN_KEYS = {"name", "events", "attributes", "usage_result", "span_id", "start_ts", "end_ts", "parent_span_id"}
AUDIT_KEYS = set(seeds.AUDIT_EVENT)


def _event(name: str, span: str, ts: str, body: dict[str, object], parent: str | None = None) -> dict[str, object]:
    event: dict[str, object] = {"id": str(uuid.uuid4()), "name": name, "timestamp": ts, "trace_id": "wf-run",
                                "span_id": span, "body": body, "api_version": "2024-10-25"}  # fmt: skip
    if parent:
        event["parent"] = {"type": "WORKFLOW", "span_id": parent}
    return event


async def _workflow(tenant: Tenant) -> list[dict[str, object]]:
    wf = {"workflow_definition": {"name": "Bot", "module": ["bot"], "id": "wf-def"}}
    node = {"node_definition": {"name": "Prompt", "module": ["bot", "p"], "id": "node-def"}}
    counts = {"input_token_count": 7, "output_token_count": 3}
    usage = {"usage": [{"ml_model_name": "gpt-4o", "ml_model_usage": counts}], "cost": [{"value": 0.1, "unit": "USD"}]}
    events = [
        _event("workflow.execution.initiated", "root", "2024-01-15T09:30:00Z", {**wf, "inputs": {"question": "hi"}}),
        _event("node.execution.initiated", "n1", "2024-01-15T09:30:01Z", {**node, "inputs": {"n": 1}}, "root"),
        _event("node.execution.fulfilled", "n1", "2024-01-15T09:30:02Z", {**node, "outputs": {"text": "yo"},
               "usage_result": usage}, "root"),
        _event("node.execution.initiated", "n2", "2024-01-15T09:30:03Z", {**node}, "root"),
        _event("node.execution.rejected", "n2", "2024-01-15T09:30:04Z",
               {**node, "error": {"message": "bad", "code": "NODE_EXECUTION"}}, "root"),
        _event("workflow.execution.fulfilled", "root", "2024-01-15T09:30:05Z", {**wf, "outputs": {"answer": "yo"}}),
    ]  # fmt: skip
    response = await tenant.http.post("/monitoring/v1/events", json=events)
    assert response.json() == {"count": 6, "success": True}
    return events


async def test_workflow_execution_detail_shape(tenant: Tenant, other_tenant: Tenant) -> None:
    sent = await _workflow(tenant)
    response = await tenant.http.get("/v1/workflow-executions/wf-run/detail")
    assert response.status_code == 200
    detail = response.json()
    assert set(detail) == DETAIL_KEYS
    assert detail["span_id"] == "root"
    assert (detail["start"], detail["end"]) == ("2024-01-15T09:30:00.000000Z", "2024-01-15T09:30:05.000000Z")
    assert detail["inputs"] == [{"id": "question", "name": "question", "type": "STRING", "value": "hi"}]
    assert detail["outputs"] == [{"id": "answer", "name": "answer", "type": "STRING", "value": "yo"}]
    assert detail["error"] is None
    (usage_result,) = detail["usage_results"]
    assert usage_result["usage"][0]["ml_model_name"] == "gpt-4o"
    assert usage_result["usage"][0]["ml_model_usage"]["input_token_count"] == 7
    assert usage_result["cost"] == [{"value": 0.1, "unit": "USD"}]
    assert [s["span_id"] for s in detail["spans"]] == ["root", "n1", "n2"]
    root, n1, n2 = detail["spans"]
    assert all(set(s) == SPAN_KEYS for s in detail["spans"])
    assert (root["name"], root["parent_span_id"], root["attributes"]) == (
        "workflow.execution",
        None,
        {"label": "Bot", "workflow_id": "wf-def"},
    )
    assert root["events"] == [sent[0], sent[5]]  # the events come back exactly as sent
    assert (n1["name"], n1["parent_span_id"], n1["attributes"]["node_id"]) == (
        "node.execution",
        "n1" and "root",
        "node-def",
    )
    assert n1["usage_result"]["usage"][0]["ml_model_usage"]["output_token_count"] == 3
    assert n1["end_ts"] == "2024-01-15T09:30:02.000000Z" and n2["usage_result"] is None
    assert other_tenant and (await other_tenant.http.get("/v1/workflow-executions/wf-run/detail")).status_code == 404


async def test_workflow_execution_detail_keyset_paging(tenant: Tenant) -> None:
    await _workflow(tenant)
    page = (await tenant.http.get("/v1/workflow-executions/wf-run/detail", params={"span_limit": 2})).json()
    assert [s["span_id"] for s in page["spans"]] == ["root", "n1"]
    params = {"span_limit": 2, "prev_span_id": "n1"}
    page = (await tenant.http.get("/v1/workflow-executions/wf-run/detail", params=params)).json()
    assert [s["span_id"] for s in page["spans"]] == ["n2"]
    bad = await tenant.http.get("/v1/workflow-executions/wf-run/detail", params={"prev_span_id": "nope"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "prev_span_id"]
    bad = await tenant.http.get("/v1/workflow-executions/wf-run/detail", params={"span_limit": 0})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "span_limit"]
    assert (await tenant.http.get("/v1/workflow-executions/nope/detail")).status_code == 404


async def _audit(tenant: Tenant) -> list[str]:
    events = [
        {**seeds.AUDIT_EVENT, "id": f"ev-{i}", "occurredAt": f"2024-07-01T00:00:{i:02d}Z",
         "eventType": "automation_run.failed" if i % 3 == 0 else "schedule.fired",
         "resourceId": f"r-{i % 2}", "correlationId": f"c-{i % 4}", "actorId": f"u-{i % 2}"}
        for i in range(12)
    ]  # fmt: skip
    assert (await tenant.http.post("/api/v1/events", json=events)).status_code == 200
    return [e["id"] for e in events]


async def test_audit_list_paging_and_filters(tenant: Tenant) -> None:
    await _audit(tenant)
    page = (await tenant.http.get("/api/v1/events", params={"limit": 5})).json()
    assert set(page) == {"events", "hasNext", "limit", "offset", "total"}
    assert (page["total"], page["hasNext"], page["limit"], page["offset"]) == (12, True, 5, 0)
    assert [e["id"] for e in page["events"]] == ["ev-11", "ev-10", "ev-9", "ev-8", "ev-7"]
    event = page["events"][0]
    assert set(event) == AUDIT_KEYS and event["occurredAt"] == "2024-07-01T00:00:11.000000Z"
    assert event["tenantId"] != "string"  # the caller's tenant, never what the writer claimed
    last = (await tenant.http.get("/api/v1/events", params={"limit": 5, "offset": 10})).json()
    assert (len(last["events"]), last["hasNext"]) == (2, False)
    filtered = (await tenant.http.get("/api/v1/events", params={"event_type": "automation_run.failed"})).json()
    assert filtered["total"] == 4
    by_res = {"resource_type": "action_run", "resource_id": "r-1", "from": "2024-07-01T00:00:05Z",
              "to": "2024-07-01T00:00:09Z"}  # fmt: skip
    assert [e["id"] for e in (await tenant.http.get("/api/v1/events", params=by_res)).json()["events"]] == [
        "ev-7", "ev-5",
    ]  # fmt: skip


async def test_audit_other_paths(tenant: Tenant) -> None:
    await _audit(tenant)
    agg = (await tenant.http.get("/api/v1/events/aggregate")).json()
    assert agg["total"] == 12
    assert {k["key"]: k["count"] for k in agg["byEventType"]} == {"schedule.fired": 8, "automation_run.failed": 4}
    assert agg["byActorType"] == [{"count": 12, "key": "user"}]
    assert agg["byResourceType"] == [{"count": 12, "key": "action_run"}]
    ranged = (await tenant.http.get("/api/v1/events/aggregate", params={"from": "2024-07-01T00:00:10Z"})).json()
    assert ranged["total"] == 2
    corr = (await tenant.http.get("/api/v1/events/correlation/c-1")).json()
    assert [e["id"] for e in corr["events"]] == ["ev-1", "ev-5", "ev-9"] and corr["total"] == 3
    res = (await tenant.http.get("/api/v1/events/resource/action_run/r-0", params={"limit": 2})).json()
    assert (res["total"], res["hasNext"], len(res["events"])) == (6, True, 2)
    stats = (await tenant.http.get("/api/v1/events/stats/by-actor")).json()
    assert sorted(stats["actors"], key=lambda a: a["actorId"]) == [
        {"actorId": "u-0", "actorType": "user", "failures": 2, "successes": 0, "total": 6},
        {"actorId": "u-1", "actorType": "user", "failures": 2, "successes": 0, "total": 6},
    ]
    one = (await tenant.http.get("/api/v1/events/ev-3")).json()
    assert one["id"] == "ev-3" and one["eventType"] == "automation_run.failed"
    assert (await tenant.http.get("/api/v1/events/nope")).status_code == 404


async def test_audit_limits_are_422_in_fastapi_shape(tenant: Tenant) -> None:
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "x"}, {"from": "yesterday"}):
        response = await tenant.http.get("/api/v1/events", params=params)
        assert response.status_code == 422, params
        (error,) = response.json()["detail"]
        assert error["loc"][0] == "query" and error["msg"] and error["type"]
    response = await tenant.http.get("/api/v1/events/correlation/x", params={"limit": 500})
    assert response.status_code == 422


async def test_audit_reads_are_tenant_scoped(tenant: Tenant, other_tenant: Tenant) -> None:
    await _audit(tenant)
    assert (await other_tenant.http.get("/api/v1/events")).json()["total"] == 0
    assert (await other_tenant.http.get("/api/v1/events/ev-1")).status_code == 404
    assert (await other_tenant.http.get("/api/v1/events/aggregate")).json()["total"] == 0
    assert (await other_tenant.http.get("/api/v1/events/correlation/c-1")).json()["total"] == 0
    assert (await other_tenant.http.get("/api/v1/events/resource/action_run/r-0")).json()["total"] == 0
    assert (await other_tenant.http.get("/api/v1/events/stats/by-actor")).json() == {"actors": []}
