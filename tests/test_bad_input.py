"""Input that used to reach the stores (or Python's limits) and come back as a 500 or a 503 is the client's
error: 422 naming the field on the REST write paths, 400 for an OTLP body, BAD_USER_INPUT in GraphQL, and
nothing of it stored."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from tests.conftest import Tenant

PAST_9999 = "9999-12-31T23:59:59-14:00"  # valid ISO-8601, but past year 9999 once in UTC
BEFORE_1 = "0001-01-01T00:00:00+01:00"  # before year 1 once in UTC
INGEST = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }"
LOG_SPANS = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }"


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


async def _count(tenant: Tenant) -> int:
    return (await tenant.gql_data("{ events { totalCount } }"))["events"]["totalCount"]


async def _rest_422(tenant: Tenant, path: str, body: Any, loc: list[Any]) -> None:
    response = await tenant.http.post(path, json=body)
    expected = 400 if path == "/monitoring/v1/events" else 422  # Vellum's document lists 400
    assert response.status_code == expected, (path, response.status_code, response.text[:300])
    assert response.json()["detail"][0]["loc"][: len(loc)] == loc, response.text[:300]  # or a key below it


async def _bad_user_input(tenant: Tenant, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = await tenant.gql(query, variables)
    assert body.get("data") is None or all(v is None for v in body["data"].values()), body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    return error


@pytest.mark.parametrize("when", [PAST_9999, BEFORE_1])
async def test_datetimes_whose_offset_overflows_are_refused(tenant: Tenant, when: str) -> None:
    await _rest_422(tenant, "/api/v1/events", {"eventType": "a.b", "occurredAt": when}, ["body", "occurredAt"])
    vellum = {"name": "workflow.execution.initiated", "trace_id": "t", "span_id": "s", "timestamp": when}
    await _rest_422(tenant, "/monitoring/v1/events", [vellum], ["body", 0, "timestamp"])
    for path in ("/api/v1/events", "/api/v1/events/aggregate", "/api/v1/events/stats/by-actor"):
        for bound in ("from", "to"):  # read bounds are clamped into the storable range
            assert (await tenant.http.get(path, params={bound: when})).status_code == 200

    # the DateTime scalar, as a variable and as a literal, in a filter and in ingested events and spans
    await _bad_user_input(tenant, "query($t: DateTime) { eventAggregates(from: $t) { total } }", {"t": when})
    await _bad_user_input(tenant, f'{{ actorStats(to: "{when}") {{ total }} }}')
    error = await _bad_user_input(tenant, INGEST, {"e": [{"name": "x", "timestamp": when}]})
    assert "$e" in error["message"] and "timestamp" in error["message"]
    await _bad_user_input(tenant, LOG_SPANS, {"s": [{"executionId": "e", "name": "n", "startTime": when}]})
    # keyset cursors carry a time: one that overflows (or lies outside what can be stored) is a bad cursor
    for cursor_time in (when, "1800-01-01T00:00:00Z"):
        cursor = base64.urlsafe_b64encode(orjson.dumps([cursor_time, "x"])).decode().rstrip("=")
        for field in ("events", "executions"):
            query = f"query($a: String) {{ {field}(after: $a) {{ totalCount }} }}"
            assert (await _bad_user_input(tenant, query, {"a": cursor}))["extensions"]["field"] == "after"
    assert await _count(tenant) == 0


async def test_numbers_that_overflow_what_is_stored_or_read_back(tenant: Tenant) -> None:
    model = {"event_type": "model", "inputs": {}, "start_time": 1_700_000_000_000}
    cases = [
        ({**model, "duration": 1e20}, ["body", "duration"]),  # past year 9999
        ({**model, "duration": -5}, ["body", "duration"]),
        ({**model, "metadata": {"prompt_tokens": 1e30}}, ["body", "metadata", "prompt_tokens"]),  # past UInt64
        ({**model, "metrics": {"completion_tokens": 3_000_000_000}}, ["body", "metrics", "completion_tokens"]),
        ({**model, "metrics": {"cost": 1e300}}, ["body", "metrics", "cost"]),  # sums overflow to inf
        ({**model, "end_time": 1e20}, ["body", "end_time"]),  # ms timestamp past DateTime64
    ]  # fmt: skip
    for body, loc in cases:
        await _rest_422(tenant, "/v1/events", body, loc)
    span = {"executionId": "e", "name": "n", "startTime": "2024-01-01T00:00:00Z"}
    error = await _bad_user_input(tenant, LOG_SPANS, {"s": [{**span, "usage": {"inputTokens": 2**40}}]})
    assert error["extensions"]["field"] == "spans[0].usage.inputTokens"
    error = await _bad_user_input(tenant, LOG_SPANS, {"s": [{**span, "cost": [{"value": 1e300, "unit": "USD"}]}]})
    assert error["extensions"]["field"] == "spans[0].cost[0].value"
    # a JSON literal integer past 64 bits cannot be written as JSON
    literal = 'mutation { ingestEvents(events: [{name: "x", payload: {n: 1' + "0" * 25 + "}}]) { count } }"
    error = await _bad_user_input(tenant, literal)
    assert error["extensions"]["field"] == "events[0].payload.n"
    assert await _count(tenant) == 0


async def test_json_nested_too_deep_to_store_and_read_back(tenant: Tenant) -> None:
    for depth in (200, 1000):  # orjson reads 1,024 levels but writes only 254
        raw = b'{"eventType": "deep", "payload": ' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"
        response = await tenant.http.post("/api/v1/events", content=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, response.text[:300]
        assert response.json()["detail"][0]["loc"][:2] == ["body", "payload"]
    error = await _bad_user_input(tenant, INGEST, {"e": [{"name": "x", "payload": {"ok": 1, "deep": _nested(200)}}]})
    assert error["extensions"]["field"] == "events[0].payload.deep"
    vellum = {"name": "node.execution.initiated", "trace_id": "t", "span_id": "s", "body": {"inputs": _nested(300)}}
    await _rest_422(tenant, "/monitoring/v1/events", vellum, ["body", "body", "inputs"])
    assert await _count(tenant) == 0

    # as deep as allowed is stored and reads back through both APIs, inside their envelopes
    ok = (await tenant.http.post("/api/v1/events", json={"eventType": "deep", "payload": _nested(127)})).json()
    (event_id,) = ok["eventIds"]
    assert (await tenant.http.get(f"/api/v1/events/{event_id}")).json()["payload"] == _nested(127)
    read = await tenant.gql_data("{ events { edges { node { payload } } } }")
    assert read["events"]["edges"][0]["node"]["payload"] == _nested(127)


async def test_otlp_bodies_that_are_not_requests_are_400(tenant: Tenant) -> None:
    headers = {"Content-Type": "application/json"}
    bodies = [b'"x"', b"[1]", b"null", b"3"]
    for depth in (900, 950, 1000):  # json_format's error message recursed past Python's limit
        bodies.append(b'{"resourceSpans": ' + b"[" * depth + b"]" * depth + b"}")
    for body in bodies:
        response = await tenant.http.post("/v1/traces", content=body, headers=headers)
        assert response.status_code == 400, (body[:30], response.status_code)
        assert len(response.json()["detail"]) < 700
    assert (await tenant.http.post("/v1/traces", content=b"{}", headers=headers)).status_code == 200


async def test_otlp_spans_with_out_of_range_numbers_are_rejected_spans(tenant: Tenant) -> None:
    def span(n: int, **extra: Any) -> dict[str, Any]:
        return {"traceId": f"{n:032x}", "spanId": f"{n:016x}", "name": "s", "startTimeUnixNano": "1700000000000000000",
                **extra}  # fmt: skip

    attr = [{"key": "llm.token_count.prompt", "value": {"doubleValue": 1e30}}]
    spans = [
        span(1),
        span(2, startTimeUnixNano="18446744073709551615"),  # year 2554: past DateTime64
        span(3, attributes=attr),
        span(4, attributes=[{"key": "llm.cost.total", "value": {"doubleValue": 1e300}}]),
    ]
    body = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    response = await tenant.http.post("/v1/traces", json=body)
    assert response.status_code == 200, response.text
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "3" and "startTimeUnixNano" in partial["errorMessage"]
    assert await _count(tenant) == 1


async def test_nul_and_unindexable_registry_keys_are_refused(tenant: Tenant) -> None:
    """Actors, resources and definitions go to Postgres, whose text has no NUL and whose index entries are
    bounded; such a value used to fail the whole group commit with 503 for every tenant in it."""
    for key in ("actorId", "actorType", "resourceType", "resourceId"):
        body = [{"eventType": "ok"}, {"eventType": "x", "actorType": "user", "actorId": "u", key: "a\x00b"}]
        await _rest_422(tenant, "/api/v1/events", body, ["body", 1, key])
    await _rest_422(tenant, "/api/v1/events", {"eventType": "x", "resourceId": "é" * 600}, ["body", "resourceId"])
    for ref in ("actor", "resource"):
        for part in ("type", "id"):
            value = {"type": "t", "id": "i", part: "\x00"}
            error = await _bad_user_input(tenant, INGEST, {"e": [{"name": "x", ref: value}]})
            assert error["extensions"]["field"] == f"events[0].{ref}.{part}"
    definition = {"id": "wf", "name": "Flow", "module": ["a"]}
    for field, value in (("id", "wf\x00"), ("name", "F\x00"), ("module", [["nested\x00"]])):
        event = {"name": "workflow.execution.initiated", "trace_id": "t", "span_id": "s",
                 "body": {"workflow_definition": {**definition, field: value}}}  # fmt: skip
        response = await tenant.http.post("/monitoring/v1/events", json=[event])
        assert response.status_code == 400, response.text
        assert response.json()["detail"][0]["loc"][:5] == ["body", 0, "body", "workflow_definition", field]
    assert await _count(tenant) == 0
