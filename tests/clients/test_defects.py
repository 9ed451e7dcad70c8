"""Defects found while pointing the vendors' SDKs at Tracehouse (issue #12), each shown on the ASGI app."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import Tenant
from tests.payloads import seeds

SPAN = """query($e: ID!, $s: ID!) { span(executionId: $e, spanId: $s) {
  status startTime endTime attributes cost { value unit source } } }"""
NODE = {"node_definition": {"name": "Prompt", "module": ["bot", "p"], "id": "node-def"}}


def _vellum(name: str, trace: str, span: str, ts: str, body: dict[str, Any], parent: Any = None) -> dict[str, Any]:
    event = {"id": str(uuid.uuid4()), "name": name, "timestamp": ts, "trace_id": trace, "span_id": span,
             "body": body}  # fmt: skip
    if parent is not None:
        event["parent"] = parent
    return event


async def _span(tenant: Tenant, execution: str, span: str) -> dict[str, Any]:
    return (await tenant.gql_data(SPAN, {"e": execution, "s": span}))["span"]


async def test_a_later_piece_merges_attributes_instead_of_replacing_them(tenant: Tenant) -> None:
    trace = f"merge-{uuid.uuid4()}"
    parent = {"type": "WORKFLOW", "span_id": "root", "workflow_definition": {"name": "W", "module": ["w"], "id": "w"}}
    events = [
        _vellum("node.execution.initiated", trace, "n1", "2024-01-15T09:30:01Z", {**NODE, "inputs": {}}, parent),
        _vellum("node.execution.fulfilled", trace, "n1", "2024-01-15T09:30:02Z", {"outputs": {"a": 1},
                "node_definition": {**NODE["node_definition"], "name": "Renamed"}}),
    ]  # fmt: skip
    assert (await tenant.http.post("/monitoring/v1/events", json=events)).status_code == 200
    attributes = (await _span(tenant, trace, "n1"))["attributes"]
    assert attributes["parent"] == parent  # said only by `initiated`: kept
    assert attributes["node_definition"]["name"] == "Renamed"  # said by both: the later wins


async def test_honeyhive_times_in_seconds_are_read_as_seconds(tenant: Tenant) -> None:
    session = f"sec-{uuid.uuid4()}"
    event = {"event_type": "session", "session_id": session, "inputs": {}, "start_time": 1_700_000_000.5,
             "end_time": 1_700_000_001}  # fmt: skip
    assert (await tenant.http.post("/v1/events", json=event)).status_code == 200
    span = await _span(tenant, session, session)
    assert span["startTime"].startswith("2023-11-14T22:13:20.5")


async def test_vellum_rejection_without_a_code_gets_vellums_code(tenant: Tenant) -> None:
    trace = f"nocode-{uuid.uuid4()}"
    wf = {"workflow_definition": {"name": "W", "module": ["w"], "id": "w"}}
    events = [
        _vellum("workflow.execution.initiated", trace, "root", "2024-01-15T09:30:00Z", {**wf, "inputs": {}}),
        _vellum("workflow.execution.rejected", trace, "root", "2024-01-15T09:30:01Z",
                {**wf, "error": {"message": "x"}}),
    ]  # fmt: skip
    assert (await tenant.http.post("/monitoring/v1/events", json=events)).status_code == 200
    detail = (await tenant.http.get(f"/v1/workflow-executions/{trace}/detail")).json()
    assert detail["error"]["code"] == "INTERNAL_SERVER_ERROR" and detail["error"]["message"] == "x"


async def test_costs_say_reported_or_come_from_the_price_table_in_every_format(tenant: Tenant) -> None:
    session = f"cost-{uuid.uuid4()}"
    events = [
        {"event_type": "session", "session_id": session, "inputs": {}, "start_time": 1_700_000_000_000},
        {"event_type": "model", "session_id": session, "event_id": f"{session}-rep", "inputs": {},
         "config": {"model": "gpt-4o"}, "metadata": {"prompt_tokens": 10, "completion_tokens": 5, "cost": 0.5},
         "start_time": 1_700_000_000_100, "end_time": 1_700_000_000_200},
        {"event_type": "model", "session_id": session, "event_id": f"{session}-priced", "inputs": {},
         "config": {"model": "gpt-4o"}, "metadata": {"prompt_tokens": 1000, "completion_tokens": 200},
         "start_time": 1_700_000_000_100, "end_time": 1_700_000_000_200},
    ]  # fmt: skip
    for event in events:
        assert (await tenant.http.post("/v1/events", json=event)).status_code == 200
    reported = (await _span(tenant, session, f"{session}-rep"))["cost"]
    assert reported == [{"value": 0.5, "unit": "USD", "source": "reported"}]
    priced = (await _span(tenant, session, f"{session}-priced"))["cost"]
    assert priced == [{"value": pytest.approx(0.0045), "unit": "USD", "source": "price_table:gpt-4o"}]
    spans = [{"executionId": session, "id": "logged", "name": "llm", "startTime": "2024-01-01T00:00:00Z",
              "endTime": "2024-01-01T00:00:01Z", "usage": {"model": "claude-sonnet-4", "input_tokens": 1000,
              "output_tokens": 0}}]  # fmt: skip
    await tenant.gql_data("mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }", {"s": spans})
    assert (await _span(tenant, session, "logged"))["cost"][0]["source"] == "price_table:claude-sonnet-4"


async def test_honeyhive_nested_children_end_with_their_parent_and_links_stay_internal(tenant: Tenant) -> None:
    session = f"kids-{uuid.uuid4()}"
    event = {**seeds.HONEYHIVE_SESSION_LOG_EVENT, "event_id": f"{session}-parent", "session_id": session,
             "event_type": "chain", "children_ids": [f"{session}-linked"]}  # fmt: skip
    assert (await tenant.http.post(f"/session/{session}/event", json=event)).status_code == 200
    query = """query($id: ID!) { execution(id: $id) { spans(first: 10) { edges { node { id status parentId } } }
      events(first: 10) { edges { node { name } } } } }"""
    execution = (await tenant.gql_data(query, {"id": session}))["execution"]
    spans = {e["node"]["id"]: e["node"] for e in execution["spans"]["edges"]}
    child = next(s for i, s in spans.items() if i not in (f"{session}-parent", f"{session}-linked"))
    assert child["status"] == "SUCCEEDED" and child["parentId"] == f"{session}-parent"  # `children: [{}]`
    assert spans[f"{session}-linked"]["parentId"] == f"{session}-parent"  # the link still makes the tree
    names = [e["node"]["name"] for e in execution["events"]["edges"]]
    assert "honeyhive.child_link" not in names and names.count("chain") == 2
    listed = (await tenant.gql_data('{ events(first: 100) { edges { node { name } } } }'))["events"]["edges"]
    assert all(e["node"]["name"] != "honeyhive.child_link" for e in listed)


async def test_vellum_path_answers_400_for_every_bad_write(tenant: Tenant) -> None:
    bad = await tenant.http.post("/monitoring/v1/events", json=[{"name": "x", "trace_id": 5, "span_id": "s"}])
    assert bad.status_code == 400 and bad.json()["detail"][0]["loc"] == ["body", 0, "trace_id"]
    headers = {"Content-Type": "application/json"}
    malformed = await tenant.http.post("/monitoring/v1/events", content=b"{", headers=headers)
    assert malformed.status_code == 400 and malformed.json()["detail"][0]["loc"] == ["body"]


async def test_otlp_json_span_with_a_non_hex_id_is_a_partial_success(tenant: Tenant) -> None:
    trace = uuid.uuid4().hex
    good = {"traceId": trace, "spanId": "00000000000000a1", "name": "ok", "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": "1700000001000000000"}  # fmt: skip
    bad = {**good, "spanId": "not-hex!", "name": "bad"}
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [good, bad]}]}]}
    response = await tenant.http.post("/v1/traces", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["partialSuccess"]["rejectedSpans"] == "1"
    assert "spanId" in response.json()["partialSuccess"]["errorMessage"]
    assert (await _span(tenant, trace, "00000000000000a1"))["status"] == "SUCCEEDED"
