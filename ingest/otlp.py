"""OTLP/HTTP traces (`POST /v1/traces`): OpenTelemetry spans with OpenInference and GenAI conventions.

trace id → execution, span id / parent span id → the tree, span status → status. OpenInference
(`openinference.span.kind`, `input.value`, `output.value`, `llm.model_name`, `llm.token_count.*`) and
GenAI (`gen_ai.operation.name`, `gen_ai.request.model`, `gen_ai.usage.*`) attributes become kind, inputs,
outputs, model and usage; every other attribute stays in `attributes`, beside the resource attributes,
scope, span kind, events and links (under `otel`). A span with usage and a model but no cost gets one
derived from the price table, marked with its source.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from ingest import lifecycle
from ingest.otlp_honeyhive import honeyhive_span
from ingest.outcome import FAILURE, SUCCESS
from ingest.prices import PriceTable
from ingest.records import Batch, CanonicalEvent, SpanPiece
from ingest.usage import apply_usage, normalize_cost, token_count
from ingest.validation import InvalidInput, dumps, maybe_json, uuid5
from storage.clickhouse.values import storable

_NAMESPACE = uuid.UUID("0b9f5d0e-6c1a-4d53-8f43-52a1f9d2b7a4")
_GEN_AI_KINDS = {"chat": "LLM", "text_completion": "LLM", "generate_content": "LLM", "embeddings": "EMBEDDING",
                 "execute_tool": "TOOL", "invoke_agent": "AGENT", "create_agent": "AGENT"}  # fmt: skip
_OTEL_KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
_INPUT_TOKENS = ("llm.token_count.prompt", "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
_OUTPUT_TOKENS = ("llm.token_count.completion", "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
_CACHE_READ = ("llm.token_count.prompt_details.cache_read", "gen_ai.usage.cache_read_input_tokens",
               "gen_ai.usage.cache_read.input_tokens")  # fmt: skip
_CACHE_WRITE = ("llm.token_count.prompt_details.cache_write", "gen_ai.usage.cache_creation_input_tokens",
                "gen_ai.usage.cache_creation.input_tokens")  # fmt: skip
_MODEL = ("llm.model_name", "gen_ai.response.model", "gen_ai.request.model")
_INPUTS = ("input.value", "gen_ai.input.messages", "gen_ai.prompt")
_OUTPUTS = ("output.value", "gen_ai.output.messages", "gen_ai.completion")
_COST = ("llm.cost.total", "gen_ai.usage.cost")
# consumed into fields, so not repeated in attributes
_CONSUMED = frozenset((
    *_INPUT_TOKENS, *_OUTPUT_TOKENS, *_CACHE_READ, *_CACHE_WRITE, *_INPUTS, *_OUTPUTS, *_COST,
    "openinference.span.kind", "input.mime_type", "output.mime_type", "llm.token_count.total",
))  # fmt: skip


class UndecodableRequest(ValueError):
    """The body is not an ExportTraceServiceRequest in the declared encoding (400)."""


def parse_protobuf(body: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise UndecodableRequest(f"not a protobuf ExportTraceServiceRequest: {exc}") from None
    return request


_ID_KEYS = ("traceId", "spanId", "parentSpanId")
_NOT_HEX = base64.b64encode(b"\x00").decode()  # never a valid id


def _objects(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _hex_ids_to_base64(request: dict[str, Any]) -> None:
    """OTLP/JSON spells trace and span ids in hex; protobuf's JSON mapping expects base64. Only the places
    ids live are visited (spans and their links), so a deeply nested body costs no recursion here;
    json_format refuses it with its own depth limit. An id that is not hex becomes one byte of zero, which
    the span checks refuse: that span is counted in `partial_success`, the rest of the request is stored."""
    for resource_spans in _objects(request.get("resourceSpans")):
        for scope_spans in _objects(resource_spans.get("scopeSpans")):
            for span in _objects(scope_spans.get("spans")):
                for holder in (span, *_objects(span.get("links"))):
                    for key in _ID_KEYS:
                        item = holder.get(key)
                        if isinstance(item, str) and item:
                            try:
                                holder[key] = base64.b64encode(bytes.fromhex(item)).decode()
                            except ValueError:
                                holder[key] = _NOT_HEX


def parse_json(body: bytes) -> ExportTraceServiceRequest:
    try:
        raw = orjson.loads(body)
        if not isinstance(raw, dict):
            raise UndecodableRequest("not an OTLP/JSON ExportTraceServiceRequest: the body must be a JSON object")
        _hex_ids_to_base64(raw)
        return json_format.ParseDict(raw, ExportTraceServiceRequest(), ignore_unknown_fields=True)
    except (orjson.JSONDecodeError, json_format.ParseError) as exc:
        reason = str(exc)  # json_format quotes the offending value, however big
        reason = reason if len(reason) <= 500 else reason[:500] + "…"
        raise UndecodableRequest(f"not an OTLP/JSON ExportTraceServiceRequest: {reason}") from None
    except RecursionError:
        # json_format puts the offending value's repr in its message; a value nested ~1,000 deep (orjson
        # reads up to 1,024) exhausts Python's recursion limit doing so.
        raise UndecodableRequest("not an OTLP/JSON ExportTraceServiceRequest: nested too deeply") from None


def any_value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which == "string_value":  # by far the most common: no getattr by name
        return value.string_value
    if which == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, which) if which else None


def attributes(kvs: Any) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in kvs}


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:  # a plain loop: this runs several times per span
        value = attrs.get(key)
        if value is not None:
            return value
    return None


def _first_key(attrs: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if attrs.get(key) is not None:
            return key
    return None


def _time(nanos: int, name: str = "startTimeUnixNano") -> datetime:
    value = datetime.fromtimestamp(nanos / 1e9, tz=UTC)
    if not storable(value):  # a fixed64 reaches 2554; DateTime64 stops at 2299
        raise ValueError(f"{name} must be between 1900-01-01 and 2299-12-31")
    return value


def _nanos_iso(nanos: int) -> str:
    return datetime.fromtimestamp(nanos / 1e9, tz=UTC).isoformat()


def _kind(attrs: dict[str, Any], span: Span) -> str:
    kind = attrs.get("openinference.span.kind")
    if isinstance(kind, str) and kind:
        return kind.upper()
    operation = attrs.get("gen_ai.operation.name")
    if isinstance(operation, str) and operation:
        return _GEN_AI_KINDS.get(operation, "LLM")
    return _OTEL_KINDS.get(span.kind, "INTERNAL")


_USAGE_GROUPS = (_INPUT_TOKENS, _OUTPUT_TOKENS, _CACHE_READ, _CACHE_WRITE)


def _usage(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    keys = [_first_key(attrs, group) for group in _USAGE_GROUPS]
    if keys[0] is None and keys[1] is None:
        return []
    inp, out, read, write = (
        0 if key is None else token_count(_number(attrs[key] or 0), (key,))
        for key in keys
    )
    return [{"model": str(_first(attrs, _MODEL) or ""), "input_tokens": inp, "output_tokens": out,
             "cache_read_input_tokens": read, "cache_creation_input_tokens": write}]  # fmt: skip


def _number(value: Any) -> Any:
    """Numbers pass; some exporters send them as strings (ValueError if it is not one)."""
    return float(value) if isinstance(value, str) else value


def _error(span: Span) -> dict[str, Any]:
    error: dict[str, Any] = {"message": span.status.message or None}
    for event in span.events:
        if event.name == "exception":
            a = attributes(event.attributes)
            error["message"] = error["message"] or a.get("exception.message")
            error["code"] = a.get("exception.type")
            error["stacktrace"] = a.get("exception.stacktrace")
            break
    return error


def _valid_id(value: bytes, size: int) -> bool:
    return len(value) == size and any(value)


def _span(span: Span, resource: dict[str, Any], scope: dict[str, Any] | None, prices: PriceTable) -> CanonicalEvent:
    if not _valid_id(span.trace_id, 16):
        raise ValueError("traceId must be 16 non-zero bytes")
    if not _valid_id(span.span_id, 8):
        raise ValueError("spanId must be 8 non-zero bytes")
    if span.parent_span_id and not _valid_id(span.parent_span_id, 8):
        raise ValueError("parentSpanId must be empty or 8 non-zero bytes")
    if not span.start_time_unix_nano:
        raise ValueError("startTimeUnixNano is required")
    trace_id, span_id, parent_id, name = span.trace_id.hex(), span.span_id.hex(), span.parent_span_id, span.name
    attrs = attributes(span.attributes)
    start = _time(span.start_time_unix_nano)
    end = _time(span.end_time_unix_nano, "endTimeUnixNano") if span.end_time_unix_nano else None
    if span.status.code == Status.STATUS_CODE_ERROR:
        status = lifecycle.FAILED
    else:
        status = lifecycle.SUCCEEDED if end is not None else lifecycle.RUNNING
    piece = SpanPiece(
        parent_span_id=parent_id.hex() if parent_id else "",
        name=name,
        kind=_kind(attrs, span),
        status=status,
        start_time=start,
        end_time=end,
    )
    inputs, outputs = _first(attrs, _INPUTS), _first(attrs, _OUTPUTS)
    if inputs is not None:
        piece.inputs = dumps(maybe_json(inputs))
    if outputs is not None:
        piece.outputs = dumps(maybe_json(outputs))
    if status == lifecycle.FAILED:
        piece.error = dumps(_error(span))
    otel: dict[str, Any] = {"span_kind": _OTEL_KINDS.get(span.kind, "UNSPECIFIED"), "resource": resource}
    if scope:
        otel["scope"] = scope
    if span.events:
        otel["events"] = [{"name": e.name, "time": _nanos_iso(e.time_unix_nano),
                           "attributes": attributes(e.attributes)} for e in span.events]  # fmt: skip
    if span.links:
        otel["links"] = [{"traceId": link.trace_id.hex(), "spanId": link.span_id.hex(),
                          "attributes": attributes(link.attributes)} for link in span.links]  # fmt: skip
    if span.trace_state:
        otel["trace_state"] = span.trace_state
    kept = {k: v for k, v in attrs.items() if k not in _CONSUMED}  # a new dict: "otel" is set in it below
    execution_id = trace_id
    usage = _usage(attrs)
    reported = _first(attrs, _COST)
    hh = honeyhive_span(attrs)
    if hh is not None:
        execution_id = hh.session_id
        piece.parent_span_id = piece.parent_span_id or hh.session_id  # under the session /session/start made
        piece.kind, piece.name = hh.kind or piece.kind, hh.name or piece.name
        if hh.inputs is not None:
            piece.inputs = dumps(hh.inputs)
        if hh.outputs is not None:
            piece.outputs = dumps(hh.outputs)
        if hh.error:
            piece.status, piece.error = lifecycle.FAILED, dumps({"message": hh.error})
            status = lifecycle.FAILED
        kept = {k: v for k, v in kept.items() if not k.startswith(("honeyhive_", "honeyhive."))}
        kept.update(hh.attributes)
        usage, reported = usage or hh.usage, reported if reported is not None else hh.cost
    kept["otel"] = otel
    piece.attributes = dumps(kept)
    if reported is not None:
        cost = [{**c, "source": "reported"} for c in normalize_cost(_number(reported), ("llm.cost.total",))]
    else:
        cost = [c for c in (prices.cost(u) for u in usage) if c is not None]
    apply_usage(piece, usage, cost)
    return CanonicalEvent(
        id=uuid5(_NAMESPACE, f"{trace_id}:{span_id}"),  # the same span sent again is the same fact
        name="otlp.span",
        timestamp=start,
        source="otlp",
        execution_id=execution_id,
        span_id=span_id,
        outcome=FAILURE if status == lifecycle.FAILED else SUCCESS if status == lifecycle.SUCCEEDED else "",
        payload=dumps(
            {"traceId": trace_id, "spanId": span_id, "name": name, "service": resource.get("service.name")}
        ),
        span=piece,
    )


def adapt(request: ExportTraceServiceRequest, prices: PriceTable) -> tuple[Batch, int, str]:
    """The spans that can be stored, how many were rejected, and why the first one was."""
    batch = Batch()
    rejected, first_error = 0, ""
    for rs_index, resource_spans in enumerate(request.resource_spans):
        resource = attributes(resource_spans.resource.attributes)
        for ss_index, scope_spans in enumerate(resource_spans.scope_spans):
            scope = (
                {"name": scope_spans.scope.name, "version": scope_spans.scope.version}
                if scope_spans.scope.name
                else None
            )
            for index, span in enumerate(scope_spans.spans):
                try:
                    batch.events.append(_span(span, resource, scope, prices))
                except (ValueError, InvalidInput) as exc:
                    rejected += 1
                    first_error = (
                        first_error or f"resourceSpans[{rs_index}].scopeSpans[{ss_index}].spans[{index}]: {exc}"
                    )
    return batch, rejected, first_error
