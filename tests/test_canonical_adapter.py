"""What Tracehouse's own GraphQL inputs become (`ingestEvents`, `logSpans`), as the schema hands them over."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from ingest import canonical
from ingest.validation import InvalidInput

T = datetime(2024, 6, 1, 10, 0, 0, 500000, tzinfo=UTC)
SPAN_NAMESPACE = uuid.UUID("5b1c3a52-9f1e-4a7e-9a43-7c2f6f0f1d10")


def error_of(call: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    with pytest.raises(InvalidInput) as raised:
        call(items)
    return raised.value.errors[0]


def test_an_event_keeps_its_fields() -> None:
    item = {"id": "e1", "name": "order.placed", "timestamp": "2024-06-01T10:00:00.5Z", "executionId": "x",
            "actor": {"type": "user", "id": "u"}, "resource": {"type": "order", "id": "o"},
            "correlationId": "c", "causationId": "k", "payload": {"status": "ok"}}  # fmt: skip
    (e,) = canonical.adapt_events([item]).events
    assert (e.id, e.name, e.timestamp, e.source, e.execution_id, e.span_id) == (
        "e1", "order.placed", T, "graphql", "x", "")  # fmt: skip
    assert (e.actor_type, e.actor_id, e.resource_type, e.resource_id) == ("user", "u", "order", "o")
    assert (e.correlation_id, e.causation_id, e.outcome, e.payload) == ("c", "k", "success", '{"status":"ok"}')
    assert e.span is None  # an execution id alone makes no span


def test_event_defaults() -> None:
    before = datetime.now(UTC)
    (e,) = canonical.adapt_events([{"name": "ping"}]).events
    assert e.id and before <= e.timestamp <= datetime.now(UTC)
    assert (e.execution_id, e.actor_type, e.actor_id, e.resource_type, e.resource_id, e.correlation_id,
            e.causation_id, e.payload, e.outcome) == ("", "", "", "", "", "", "", "null", "")  # fmt: skip


@pytest.mark.parametrize(
    ("items", "error"),
    [
        ([{"name": "a"}, {"name": ""}], {"loc": ["events", 1, "name"], "msg": "must be a non-empty string",
                                         "type": "value_error"}),
        ([{"name": "a", "spanId": "s"}], {"loc": ["events", 0, "executionId"],
                                          "msg": "is required when spanId is given", "type": "missing"}),
        ([{"name": "a", "timestamp": "later"}], {"loc": ["events", 0, "timestamp"],
                                                 "msg": "must be an ISO-8601 date-time", "type": "datetime_parsing"}),
        ([{"name": "a", "executionId": "x", "spanId": "s", "payload": {"usage": {"input_tokens": -1}}}],
         {"loc": ["events", 0, "payload", "usage", "input_tokens"], "msg": "must be between 0 and 2147483647",
          "type": "int_range"}),
        ([{"name": "a", "executionId": "x", "spanId": "s", "payload": {"cost": "lots"}}],
         {"loc": ["events", 0, "payload", "cost"], "msg": "must be a number or {value, unit}", "type": "float_type"}),
    ],
)  # fmt: skip
def test_bad_events_are_named(items: list[dict[str, Any]], error: dict[str, Any]) -> None:
    assert error_of(canonical.adapt_events, items) == error


def test_a_lifecycle_event_with_a_span_id_is_a_span_piece() -> None:
    payload = {"name": "Fetch", "kind": "tool", "inputs": {"u": 1}, "outputs": [2], "error": None,
               "attributes": {"a": True}, "usage": {"input_tokens": 5, "output_tokens": 6}, "cost": 0.25}  # fmt: skip
    item = {"name": "tool.execution.completed", "timestamp": T, "executionId": "x", "spanId": "s",
            "parentSpanId": "p", "payload": payload}  # fmt: skip
    (e,) = canonical.adapt_events([item]).events
    p = e.span
    assert (p.parent_span_id, p.name, p.kind, p.status, p.start_time, p.end_time) == (
        "p", "Fetch", "TOOL", "SUCCEEDED", None, T)  # fmt: skip
    assert (p.inputs, p.outputs, p.error, p.attributes) == ('{"u":1}', "[2]", "", '{"a":true}')
    assert (p.input_tokens, p.output_tokens, orjson.loads(p.cost)) == (5, 6, [{"value": 0.25, "unit": "USD"}])
    # a payload that is not an object, or whose name/kind are not strings, says nothing of them
    (e,) = canonical.adapt_events([{**item, "name": "tool.execution.started", "payload": [1]}]).events
    assert (e.span.name, e.span.kind, e.span.status, e.span.start_time, e.span.inputs) == ("", "TOOL", "RUNNING",
                                                                                          T, "")  # fmt: skip
    (e,) = canonical.adapt_events([{**item, "payload": {"name": 1, "kind": 2, "error": "x"}}]).events
    assert (e.span.name, e.span.kind, e.span.error, e.span.parent_span_id) == ("", "TOOL", '"x"', "p")
    # the payload's kind wins over the event name's; no parentSpanId: no parent
    del item["parentSpanId"]
    (e,) = canonical.adapt_events([{**item, "payload": {"kind": "retriever"}}]).events
    assert (e.span.kind, e.span.parent_span_id) == ("RETRIEVER", "")


def test_a_span_keeps_its_fields() -> None:
    item = {"executionId": "x", "id": "s", "name": "call", "kind": "llm", "parentId": "p",
            "startTime": T, "endTime": T + timedelta(seconds=2), "status": "failed",
            "inputs": {"i": 1}, "outputs": {"o": 2}, "error": {"m": "bad"}, "attributes": {"k": "v"},
            "usage": [{"model": "m", "input_tokens": 1, "output_tokens": 2}],
            "cost": {"value": 3, "unit": "EUR"}}  # fmt: skip
    (e,) = canonical.adapt_spans([item]).events
    assert (e.name, e.timestamp, e.source, e.execution_id, e.span_id, e.outcome) == (
        "span.logged", T, "graphql", "x", "s", "failure")  # fmt: skip
    assert e.id == str(uuid.uuid5(SPAN_NAMESPACE, "x\x00s"))  # the same span sent again is the same event
    assert orjson.loads(e.payload) == {"spanId": "s", "status": "FAILED"}
    p = e.span
    assert (p.parent_span_id, p.name, p.kind, p.status, p.start_time, p.end_time) == (
        "p", "call", "LLM", "FAILED", T, T + timedelta(seconds=2))  # fmt: skip
    assert (p.inputs, p.outputs, p.error, p.attributes) == ('{"i":1}', '{"o":2}', '{"m":"bad"}', '{"k":"v"}')
    assert (p.input_tokens, p.output_tokens, orjson.loads(p.cost)) == (1, 2, [{"value": 3.0, "unit": "EUR"}])


@pytest.mark.parametrize(
    ("extra", "status", "end", "outcome"),
    [
        ({}, "RUNNING", None, ""),
        ({"endTime": T}, "SUCCEEDED", T, "success"),  # an end equal to the start is fine
        ({"error": "x"}, "FAILED", T, "failure"),  # terminal without an end: it ends when it starts
        ({"status": "canceled"}, "CANCELLED", T, ""),
        ({"status": "RUNNING", "endTime": T + timedelta(seconds=1)}, "RUNNING", T + timedelta(seconds=1), ""),
        ({"status": "success", "error": "x"}, "SUCCEEDED", T, "success"),
    ],
)
def test_span_status_and_end(extra: dict[str, Any], status: str, end: datetime | None, outcome: str) -> None:
    (e,) = canonical.adapt_spans([{"executionId": "x", "name": "n", "startTime": T, **extra}]).events
    assert (e.span.status, e.span.end_time, e.outcome, e.span.kind, e.span.parent_span_id) == (
        status, end, outcome, "SPAN", "")  # fmt: skip


def test_a_span_without_id_gets_a_new_one_each_time() -> None:
    spans = canonical.adapt_spans([{"executionId": "x", "name": "n", "startTime": T}] * 2).events
    assert spans[0].span_id != spans[1].span_id and spans[0].id != spans[1].id


@pytest.mark.parametrize(
    ("item", "error"),
    [
        ({"executionId": "", "name": "n"}, {"loc": ["spans", 1, "executionId"], "msg": "must be a non-empty ID",
                                            "type": "value_error"}),
        ({"executionId": "x", "name": ""}, {"loc": ["spans", 1, "name"], "msg": "must be a non-empty string",
                                            "type": "value_error"}),
        ({"executionId": "x", "name": "n", "endTime": T - timedelta(microseconds=1)},
         {"loc": ["spans", 1, "endTime"], "msg": "must not be before startTime", "type": "value_error"}),
        ({"executionId": "x", "name": "n", "startTime": "soon"},
         {"loc": ["spans", 1, "startTime"], "msg": "must be an ISO-8601 date-time", "type": "datetime_parsing"}),
        ({"executionId": "x", "name": "n", "endTime": "later"},
         {"loc": ["spans", 1, "endTime"], "msg": "must be an ISO-8601 date-time", "type": "datetime_parsing"}),
        ({"executionId": "x", "name": "n", "status": "DONE"},
         {"loc": ["spans", 1, "status"], "msg": "must be one of RUNNING, SUCCEEDED, FAILED, CANCELLED",
          "type": "enum"}),
        ({"executionId": "x", "name": "n", "usage": {"output_tokens": -2}},
         {"loc": ["spans", 1, "usage", "output_tokens"], "msg": "must be between 0 and 2147483647",
          "type": "int_range"}),
        ({"executionId": "x", "name": "n", "cost": ["x"]},
         {"loc": ["spans", 1, "cost", 0], "msg": "must be a number or {value, unit}", "type": "float_type"}),
    ],
)  # fmt: skip
def test_bad_spans_are_named(item: dict[str, Any], error: dict[str, Any]) -> None:
    good = {"executionId": "x", "name": "n", "startTime": T}
    assert error_of(canonical.adapt_spans, [good, {"startTime": T, **item}]) == error
