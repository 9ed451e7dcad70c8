"""What OTLP spans become: ids, times, status, kind, inputs/outputs, error, usage, cost and attributes."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from ingest import otlp
from ingest.prices import Price, PriceTable
from ingest.records import CanonicalEvent

TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"
PARENT = "00f067aa0ba902b7"
START_NS = 1_700_000_000_123_456_000
START = datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)
PRICES = PriceTable({"m1": Price(input=1.0, output=2.0, cache_read=0.5, cache_write=4.0)})


def attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def span(**fields: Any) -> dict[str, Any]:
    attrs = fields.pop("attrs", {})
    return {"traceId": TRACE, "spanId": SPAN, "name": "op", "startTimeUnixNano": str(START_NS),
            "attributes": [attr(k, v) for k, v in attrs.items()], **fields}  # fmt: skip


def request(*spans: dict[str, Any], resource: dict[str, Any] | None = None, scope: dict[str, Any] | None = None
            ) -> bytes:  # fmt: skip
    scope_spans: dict[str, Any] = {"spans": list(spans)}
    if scope is not None:
        scope_spans["scope"] = scope
    return orjson.dumps({"resourceSpans": [{
        "resource": {"attributes": [attr(k, v) for k, v in (resource or {}).items()]},
        "scopeSpans": [scope_spans],
    }]})  # fmt: skip


def adapt_one(s: dict[str, Any], **kw: Any) -> CanonicalEvent:
    batch, rejected, reason = otlp.adapt(otlp.parse_json(request(s, **kw)), PRICES)
    assert (rejected, reason) == (0, "")
    (event,) = batch.events
    return event


def test_ids_times_and_the_event() -> None:
    e = adapt_one(span(parentSpanId=PARENT, endTimeUnixNano=str(START_NS + 2_000_000)),
                  resource={"service.name": "svc"})  # fmt: skip
    assert (e.id, e.name, e.timestamp, e.source, e.execution_id, e.span_id, e.outcome) == (
        str(uuid.uuid5(uuid.UUID("0b9f5d0e-6c1a-4d53-8f43-52a1f9d2b7a4"), f"{TRACE}:{SPAN}")), "otlp.span", START,
        "otlp", TRACE, SPAN, "success")  # fmt: skip
    assert orjson.loads(e.payload) == {"traceId": TRACE, "spanId": SPAN, "name": "op", "service": "svc"}
    p = e.span
    assert (p.parent_span_id, p.name, p.status, p.start_time, p.end_time, p.error) == (
        PARENT, "op", "SUCCEEDED", START, START + timedelta(milliseconds=2), "")  # fmt: skip


def test_running_and_failed_spans() -> None:
    running = adapt_one(span())
    assert (running.span.status, running.span.end_time, running.outcome, running.span.parent_span_id) == (
        "RUNNING", None, "", "")  # fmt: skip
    exception = {"name": "exception", "timeUnixNano": str(START_NS), "attributes": [
        attr("exception.message", "boom"), attr("exception.type", "ValueError"), attr("exception.stacktrace", "tb")]}
    other = {"name": "retry", "timeUnixNano": str(START_NS)}
    failed = adapt_one(span(status={"code": 2}, events=[other, exception]))
    assert (failed.span.status, failed.outcome) == ("FAILED", "failure")
    assert orjson.loads(failed.span.error) == {"message": "boom", "code": "ValueError", "stacktrace": "tb"}
    with_message = adapt_one(span(status={"code": 2, "message": "said"}, events=[exception]))
    assert orjson.loads(with_message.span.error)["message"] == "said"
    bare = adapt_one(span(status={"code": 2}, endTimeUnixNano=str(START_NS)))
    assert (orjson.loads(bare.span.error), bare.span.end_time) == ({"message": None}, START)
    ok = adapt_one(span(status={"code": 1}))  # OK without an end is still running
    assert (ok.span.status, ok.span.error) == ("RUNNING", "")


@pytest.mark.parametrize(
    ("attrs", "kind", "otel_kind", "expected"),
    [
        ({"openinference.span.kind": "retriever", "gen_ai.operation.name": "chat"}, 1, "INTERNAL", "RETRIEVER"),
        ({"openinference.span.kind": "", "gen_ai.operation.name": "embeddings"}, 1, "INTERNAL", "EMBEDDING"),
        ({"gen_ai.operation.name": "execute_tool"}, 0, "UNSPECIFIED", "TOOL"),
        ({"gen_ai.operation.name": "invoke_agent"}, 0, "UNSPECIFIED", "AGENT"),
        ({"gen_ai.operation.name": "chat"}, 0, "UNSPECIFIED", "LLM"),
        ({"gen_ai.operation.name": "text_completion"}, 0, "UNSPECIFIED", "LLM"),
        ({"gen_ai.operation.name": "generate_content"}, 0, "UNSPECIFIED", "LLM"),
        ({"gen_ai.operation.name": "create_agent"}, 0, "UNSPECIFIED", "AGENT"),
        ({"gen_ai.operation.name": "something_new"}, 4, "PRODUCER", "LLM"),
        ({"gen_ai.operation.name": ""}, 3, "CLIENT", "CLIENT"),
        ({}, 5, "CONSUMER", "CONSUMER"),
        ({}, 0, "UNSPECIFIED", "UNSPECIFIED"),
        ({}, 1, "INTERNAL", "INTERNAL"),
    ],
)
def test_kind(attrs: dict[str, Any], kind: int, otel_kind: str, expected: str) -> None:
    e = adapt_one(span(attrs=attrs, kind=kind))
    assert e.span.kind == expected
    assert orjson.loads(e.span.attributes)["otel"]["span_kind"] == otel_kind


def test_inputs_outputs_and_what_stays_in_attributes() -> None:
    attrs = {"input.value": '{"q": 1}', "input.mime_type": "application/json", "output.value": "[not json",
             "gen_ai.prompt": "ignored: input.value comes first", "llm.token_count.total": 9, "custom": True,
             "llm.model_name": "m1"}  # fmt: skip
    link = {"traceId": TRACE, "spanId": PARENT, "attributes": [attr("why", "follows")]}
    event = {"name": "tick", "timeUnixNano": str(START_NS), "attributes": [attr("n", 1)]}
    e = adapt_one(span(attrs=attrs, kind=2, links=[link], events=[event], traceState="k=v"),
                  resource={"service.name": "svc"}, scope={"name": "lib", "version": "1.2"})  # fmt: skip
    assert (e.span.inputs, e.span.outputs) == ('{"q":1}', '"[not json"')
    assert orjson.loads(e.span.attributes) == {
        "custom": True, "llm.model_name": "m1",
        "otel": {"span_kind": "SERVER", "resource": {"service.name": "svc"}, "scope": {"name": "lib", "version": "1.2"},
                 "events": [{"name": "tick", "time": START.isoformat(), "attributes": {"n": 1}}],
                 "links": [{"traceId": TRACE, "spanId": PARENT, "attributes": {"why": "follows"}}],
                 "trace_state": "k=v"},
    }  # fmt: skip
    plain = adapt_one(span(attrs={"gen_ai.completion": "hi", "gen_ai.input.messages": "{}"}), scope={"name": ""})
    assert (plain.span.inputs, plain.span.outputs) == ("{}", '"hi"')
    assert orjson.loads(plain.span.attributes) == {"otel": {"span_kind": "UNSPECIFIED", "resource": {}}}


def test_any_values() -> None:
    values = {"key": "v", "value": {"kvlistValue": {"values": [
        {"key": "list", "value": {"arrayValue": {"values": [{"intValue": "1"}, {"stringValue": "a"}]}}},
        {"key": "bytes", "value": {"bytesValue": base64.b64encode(b"\x01\xff").decode()}},
        {"key": "empty", "value": {}},
    ]}}}  # fmt: skip
    e = adapt_one({**span(), "attributes": [values]})
    assert orjson.loads(e.span.attributes)["v"] == {"list": [1, "a"], "bytes": "01ff", "empty": None}


def test_usage_and_derived_or_reported_cost() -> None:
    attrs = {"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 10, "gen_ai.request.model": "m1",
             "gen_ai.usage.cache_read_input_tokens": 100, "gen_ai.usage.cache_creation_input_tokens": 200}
    p = adapt_one(span(attrs=attrs)).span
    assert (p.input_tokens, p.output_tokens, p.cache_read_input_tokens, p.cache_creation_input_tokens) == (
        1000, 10, 100, 200)  # fmt: skip
    assert orjson.loads(p.usage) == [{"model": "m1", "input_tokens": 1000, "output_tokens": 10,
                                      "cache_read_input_tokens": 100, "cache_creation_input_tokens": 200}]
    # (700 * 1 + 10 * 2 + 100 * 0.5 + 200 * 4) / 1e6
    assert orjson.loads(p.cost) == [{"value": 0.00157, "unit": "USD", "source": "price_table:m1"}]
    reported = adapt_one(span(attrs={**attrs, "llm.cost.total": 0.5})).span
    assert orjson.loads(reported.cost) == [{"value": 0.5, "unit": "USD", "source": "reported"}]
    assert "llm.cost.total" not in orjson.loads(reported.attributes)
    unknown = adapt_one(span(attrs={**attrs, "gen_ai.request.model": "mystery"})).span
    assert (unknown.input_tokens, unknown.cost) == (1000, "")
    only_output = adapt_one(span(attrs={"llm.token_count.completion": 3})).span
    assert orjson.loads(only_output.usage) == [{"model": "", "input_tokens": 0, "output_tokens": 3,
                                                "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}]
    cache_only = adapt_one(span(attrs={"llm.token_count.prompt_details.cache_read": 3})).span
    assert (cache_only.usage, cache_only.cache_read_input_tokens) == ("", 0)  # no input or output: no usage


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"traceId": "00" * 16}, "traceId must be 16 non-zero bytes"),
        ({"traceId": "ab" * 15}, "traceId must be 16 non-zero bytes"),
        ({"spanId": "00" * 8}, "spanId must be 8 non-zero bytes"),
        ({"spanId": "ab" * 9}, "spanId must be 8 non-zero bytes"),
        ({"parentSpanId": "00" * 8}, "parentSpanId must be empty or 8 non-zero bytes"),
        ({"parentSpanId": "ab" * 7}, "parentSpanId must be empty or 8 non-zero bytes"),
        ({"startTimeUnixNano": "0"}, "startTimeUnixNano is required"),
    ],
)
def test_bad_spans_are_rejected_and_counted_alone(fields: dict[str, Any], why: str) -> None:
    good = span()
    other = {**span(), "spanId": PARENT}
    body = orjson.dumps({"resourceSpans": [
        {"scopeSpans": [{"spans": [good]}]},
        {"scopeSpans": [{"spans": []}, {"spans": [other, {**span(), **fields}, {**span(), **fields}]}]},
    ]})  # fmt: skip
    batch, rejected, reason = otlp.adapt(otlp.parse_json(body), PRICES)
    assert [e.span_id for e in batch.events] == [SPAN, PARENT]
    assert (rejected, reason) == (2, f"resourceSpans[1].scopeSpans[1].spans[1]: {why}")


def test_undecodable_bodies() -> None:
    # a span whose id is not hex is that span's refusal (partial_success), not the request's
    batch, rejected, _ = otlp.adapt(otlp.parse_json(request({**span(), "spanId": "xyz"})), PRICES)
    assert (len(batch.events), rejected) == (0, 1)
    with pytest.raises(otlp.UndecodableRequest, match=r"^not an OTLP/JSON ExportTraceServiceRequest: "):
        otlp.parse_json(b"{")
    with pytest.raises(otlp.UndecodableRequest, match=r"^not a protobuf ExportTraceServiceRequest: "):
        otlp.parse_protobuf(b"\xff\xff\xff")
    # an empty id stays empty (and is then rejected as a span, not as a body)
    batch, rejected, _ = otlp.adapt(otlp.parse_json(request({**span(), "parentSpanId": ""})), PRICES)
    assert (len(batch.events), rejected) == (1, 0)
    as_protobuf = otlp.parse_protobuf(otlp.parse_json(request(span())).SerializeToString())
    assert otlp.adapt(as_protobuf, PRICES)[0].events[0].span_id == SPAN


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ("llm.token_count.prompt", "input_tokens"),
        ("gen_ai.usage.prompt_tokens", "input_tokens"),
        ("gen_ai.usage.completion_tokens", "output_tokens"),
        ("llm.token_count.prompt_details.cache_read", "cache_read_input_tokens"),
        ("gen_ai.usage.cache_read.input_tokens", "cache_read_input_tokens"),
        ("llm.token_count.prompt_details.cache_write", "cache_creation_input_tokens"),
        ("gen_ai.usage.cache_creation.input_tokens", "cache_creation_input_tokens"),
    ],
)
def test_every_token_count_spelling(key: str, field: str) -> None:
    attrs = {"gen_ai.usage.output_tokens": 1, key: 7} if field != "output_tokens" else {key: 7}
    p = adapt_one(span(attrs=attrs)).span
    assert getattr(p, field) == 7
    assert key not in orjson.loads(p.attributes)  # consumed into the usage


@pytest.mark.parametrize("key", ["llm.model_name", "gen_ai.response.model", "gen_ai.request.model"])
def test_every_model_spelling(key: str) -> None:
    p = adapt_one(span(attrs={"llm.token_count.prompt": 1, key: "m1"})).span
    assert orjson.loads(p.usage)[0]["model"] == "m1" and orjson.loads(p.cost)[0]["source"] == "price_table:m1"


def test_consumed_attributes_and_other_spellings() -> None:
    attrs = {"openinference.span.kind": "chain", "output.mime_type": "text/plain", "gen_ai.output.messages": "[1]",
             "gen_ai.usage.cost": 0.1, "input.value": 5}  # fmt: skip
    p = adapt_one(span(attrs=attrs)).span
    assert (p.kind, p.outputs, p.inputs, orjson.loads(p.cost)) == ("CHAIN", "[1]", "5", [
        {"value": 0.1, "unit": "USD", "source": "reported"}])  # fmt: skip
    assert orjson.loads(p.attributes) == {"otel": {"span_kind": "UNSPECIFIED", "resource": {}}}


def test_unknown_json_fields_are_ignored() -> None:
    body = orjson.loads(request(span()))
    body["resourceSpans"][0]["somethingNew"] = {"x": 1}
    assert len(otlp.adapt(otlp.parse_json(orjson.dumps(body)), PRICES)[0].events) == 1
