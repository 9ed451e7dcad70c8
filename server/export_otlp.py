"""Merged spans as OTLP/JSON (`format=otlp` of the export): ExportTraceServiceRequest documents that any
OTLP/HTTP receiver reads, Tracehouse's own `POST /v1/traces` included, so an export re-imports.

The inverse of ingest/otlp.py: kind, inputs, outputs, usage and a reported cost go back into the
OpenInference attributes that adapter reads (`openinference.span.kind`, `input.value`, `output.value`,
`llm.model_name`, `llm.token_count.*`, `llm.cost.total`); status and error into the span status and an
`exception` event; what the adapter kept under `attributes.otel` (resource, scope, OTel span kind, events,
links, trace state) back where OTLP carries it; every other attribute as an attribute. Ids that are
already OTLP ids (32 / 16 hex digits, as spans that came in over OTLP have) are kept; any other id is
hashed into one (the same id always into the same one, so parent links hold) and the original is kept in
the `tracehouse.execution_id` / `tracehouse.span_id` attributes. A cost derived from the price table is
left out (the importer derives it again); CANCELLED has no OTLP status and reads back as SUCCEEDED, with a
`tracehouse.status` attribute saying CANCELLED.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from resolvers.records import SpanRecord

_OTEL_KINDS = {"UNSPECIFIED": 0, "INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
_STATUS_ERROR = 2
_HEX = {32: re.compile(r"[0-9a-f]{32}"), 16: re.compile(r"[0-9a-f]{16}")}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_INT64 = (-(2**63), 2**63 - 1)
SCOPE = {"name": "tracehouse.export"}


def _otlp_id(value: str, digits: int, *salt: str) -> str:
    """`value` when it already is an OTLP id of `digits` hex digits (not all zero), else a hash of it."""
    if _HEX[digits].fullmatch(value) and value.strip("0"):
        return value
    return hashlib.sha256("\x00".join((*salt, value)).encode()).hexdigest()[:digits]


def any_value(value: Any) -> dict[str, Any]:
    """A JSON value as an OTLP AnyValue (the inverse of ingest/otlp.any_value)."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)} if _INT64[0] <= value <= _INT64[1] else {"stringValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": key_values(value)}}
    return {"stringValue": str(value)}


def key_values(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": str(k), "value": any_value(v)} for k, v in values.items()]


def _nanos(value: datetime) -> str:
    return str((value - _EPOCH) // _MICROSECOND * 1000)


def _iso_nanos(text: Any) -> str | None:
    try:
        parsed = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return _nanos(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)) if parsed else None


def _text_value(raw: str) -> Any:
    """inputs / outputs as the `input.value` the importer reads back: objects and lists as JSON text."""
    value = orjson.loads(raw)
    return orjson.dumps(value).decode() if isinstance(value, dict | list) else value


def _usage_attributes(raw: str, attrs: dict[str, Any]) -> None:
    entries: list[dict[str, Any]] = orjson.loads(raw) if raw else []
    if not entries:
        return
    model = next((e.get("model") for e in entries if e.get("model")), None)
    if model:
        attrs["llm.model_name"] = model
    for key, field in (("llm.token_count.prompt", "input_tokens"), ("llm.token_count.completion", "output_tokens"),
                       ("llm.token_count.prompt_details.cache_read", "cache_read_input_tokens"),
                       ("llm.token_count.prompt_details.cache_write", "cache_creation_input_tokens")):  # fmt: skip
        attrs[key] = sum(int(e.get(field) or 0) for e in entries)


def _reported_cost(raw: str) -> float | None:
    costs: list[dict[str, Any]] = orjson.loads(raw) if raw else []
    kept = [c["value"] for c in costs if c.get("unit") == "USD" and not str(c.get("source") or "").startswith("price")]
    return float(sum(kept)) if kept else None


def otlp_span(r: SpanRecord) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """One span as OTLP/JSON, with the resource attributes and scope it belongs under."""
    stored: Any = orjson.loads(r.attributes) if r.attributes else {}
    attrs: dict[str, Any] = dict(stored) if isinstance(stored, dict) else {"tracehouse.attributes": r.attributes}
    otel = attrs.pop("otel", None)
    otel = otel if isinstance(otel, dict) else {}
    trace_id = _otlp_id(r.execution_id, 32)
    span_id = _otlp_id(r.id, 16, r.execution_id)
    if trace_id != r.execution_id:
        attrs["tracehouse.execution_id"] = r.execution_id
    if span_id != r.id:
        attrs["tracehouse.span_id"] = r.id
    attrs["openinference.span.kind"] = r.kind
    if r.inputs:
        attrs["input.value"] = _text_value(r.inputs)
    if r.outputs:
        attrs["output.value"] = _text_value(r.outputs)
    _usage_attributes(r.usage, attrs)
    cost = _reported_cost(r.cost)
    if cost is not None:
        attrs["llm.cost.total"] = cost
    if r.status == "CANCELLED":
        attrs["tracehouse.status"] = "CANCELLED"
    span: dict[str, Any] = {
        "traceId": trace_id,
        "spanId": span_id,
        "name": r.name,
        "kind": _OTEL_KINDS.get(str(otel.get("span_kind", "")), _OTEL_KINDS["INTERNAL"]),
        "startTimeUnixNano": _nanos(r.start_time),
        "attributes": key_values(attrs),
    }
    if r.parent_id:
        span["parentSpanId"] = _otlp_id(r.parent_id, 16, r.execution_id)
    if r.end_time is not None:
        span["endTimeUnixNano"] = _nanos(r.end_time)
    if isinstance(otel.get("trace_state"), str):
        span["traceState"] = otel["trace_state"]
    events = [
        {"name": str(e.get("name", "")), "timeUnixNano": _iso_nanos(e.get("time")) or span["startTimeUnixNano"],
         "attributes": key_values(e.get("attributes") or {})}
        for e in otel.get("events") or [] if isinstance(e, dict)
    ]  # fmt: skip
    if r.status == "FAILED":
        error: Any = orjson.loads(r.error) if r.error else {}
        error = error if isinstance(error, dict) else {"message": str(error)}
        span["status"] = {"code": _STATUS_ERROR, "message": str(error.get("message") or "")}
        if not any(e["name"] == "exception" for e in events):
            details = {"exception.message": error.get("message"), "exception.type": error.get("code"),
                       "exception.stacktrace": error.get("stacktrace")}  # fmt: skip
            events.append({
                "name": "exception", "timeUnixNano": span.get("endTimeUnixNano", span["startTimeUnixNano"]),
                "attributes": key_values({k: str(v) for k, v in details.items() if v is not None}),
            })  # fmt: skip
    if events:
        span["events"] = events
    links = [
        {"traceId": str(link.get("traceId", "")), "spanId": str(link.get("spanId", "")),
         "attributes": key_values(link.get("attributes") or {})}
        for link in otel.get("links") or [] if isinstance(link, dict)
    ]  # fmt: skip
    if links:
        span["links"] = links
    resource, scope = otel.get("resource"), otel.get("scope")
    return span, resource if isinstance(resource, dict) else {}, scope if isinstance(scope, dict) else SCOPE


def otlp_document(spans: list[SpanRecord]) -> bytes:
    """One ExportTraceServiceRequest (a line of the export): spans grouped by resource, then by scope."""
    groups: dict[bytes, tuple[dict[str, Any], dict[bytes, tuple[dict[str, Any], list[dict[str, Any]]]]]] = {}
    for record in spans:
        span, resource, scope = otlp_span(record)
        _, scopes = groups.setdefault(orjson.dumps(resource, option=orjson.OPT_SORT_KEYS), (resource, {}))
        scopes.setdefault(orjson.dumps(scope, option=orjson.OPT_SORT_KEYS), (scope, []))[1].append(span)
    resource_spans = [
        {"resource": {"attributes": key_values(resource)},
         "scopeSpans": [{"scope": scope, "spans": items} for scope, items in scopes.values()]}
        for resource, scopes in groups.values()
    ]  # fmt: skip
    return orjson.dumps({"resourceSpans": resource_spans}) + b"\n"
