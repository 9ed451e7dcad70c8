"""The NDJSON lines of the export: one JSON object per execution, span or event, with a `type` field and
the GraphQL types' field names (camelCase) and values, so a line reads like the node the API returns.

Stored JSON (payloads, inputs, outputs, attributes) is spliced in as it is stored (orjson.Fragment), not
decoded and encoded again: the export of a million events spends its time reading, not re-encoding.
"""

from __future__ import annotations

from typing import Any

import orjson

from graph.cost import Cost
from graph.enums import SpanKind
from graph.scalars import format_datetime
from graph.span_error import SpanError
from graph.usage import Usage
from resolvers.export import ExecutionBatch
from resolvers.records import EventRecord, ExecutionRecord, SpanRecord


def _raw(text: str) -> orjson.Fragment | None:
    """A stored JSON text as it is; an empty text is null (as the JSON scalar reads it)."""
    return orjson.Fragment(text) if text else None


def _ref(type_: str, id_: str) -> dict[str, str] | None:
    return {"type": type_, "id": id_} if type_ and id_ else None


def _error(raw: str) -> dict[str, Any] | None:
    error = SpanError.from_json(raw)
    if error is None:
        return None
    return {"message": error.message, "code": error.code, "stacktrace": error.stacktrace, "rawData": error.raw_data}


def _usage(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    by_model = [
        {"model": m.model, "inputTokens": m.input_tokens, "outputTokens": m.output_tokens,
         "cacheCreationInputTokens": m.cache_creation_input_tokens,
         "cacheReadInputTokens": m.cache_read_input_tokens, "totalTokens": m.input_tokens + m.output_tokens}
        for m in usage.model_list()
    ]  # fmt: skip
    return {
        "inputTokens": usage.input_tokens,
        "outputTokens": usage.output_tokens,
        "cacheCreationInputTokens": usage.cache_creation_input_tokens,
        "cacheReadInputTokens": usage.cache_read_input_tokens,
        "byModel": by_model,
        "totalTokens": usage.input_tokens + usage.output_tokens,
    }


def _span_usage(r: SpanRecord) -> Usage | None:
    return Usage.of_span(r.usage, r.input_tokens, r.output_tokens, r.cache_creation_input_tokens,
                         r.cache_read_input_tokens)  # fmt: skip


def _costs(costs: list[Cost]) -> list[dict[str, Any]]:
    return [{"value": c.value, "unit": c.unit, "source": c.source} for c in costs]


def event_line(r: EventRecord) -> bytes:
    return orjson.dumps({
        "type": "event", "id": r.id, "name": r.name, "timestamp": r.timestamp_iso or format_datetime(r.timestamp),
        "source": r.source,
        "executionId": r.execution_id or None, "spanId": r.span_id or None,
        "correlationId": r.correlation_id or None, "causationId": r.causation_id or None,
        "outcome": r.outcome or None, "payload": _raw(r.payload),
        "actor": _ref(r.actor_type, r.actor_id), "resource": _ref(r.resource_type, r.resource_id),
    }) + b"\n"  # fmt: skip


def span_line(r: SpanRecord) -> bytes:
    return orjson.dumps({
        "type": "span", "id": r.id, "executionId": r.execution_id, "parentId": r.parent_id or None,
        "name": r.name, "kind": SpanKind.value_of(r.kind), "kindName": r.kind, "status": r.status,
        "startTime": r.start_iso, "endTime": r.end_iso, "durationMs": r.duration_ms,
        "inputs": _raw(r.inputs), "outputs": _raw(r.outputs), "error": _error(r.error),
        "attributes": _raw(r.attributes), "usage": _usage(_span_usage(r)),
        "cost": _costs(Cost.from_json(r.cost)),
    }) + b"\n"  # fmt: skip


def execution_line(r: ExecutionRecord, batch: ExecutionBatch) -> bytes:
    rollup = batch.rollups.get(r.id)
    actor = batch.actors.get(r.id)
    return orjson.dumps({
        "type": "execution", "id": r.id, "name": r.name, "kind": SpanKind.of(r.kind).value, "kindName": r.kind,
        "status": r.status, "startTime": format_datetime(r.start_time),
        "endTime": format_datetime(r.end_time) if r.end_time is not None else None, "durationMs": r.duration_ms,
        "inputs": _raw(r.inputs), "outputs": _raw(r.outputs), "error": _error(r.error),
        "metadata": _raw(r.attributes), "sessionId": r.session_id,
        "spanCount": r.span_count, "failed": r.status == "FAILED" or r.failed_spans > 0,
        "usage": _usage(Usage.of(rollup.usage_by_model if rollup else [])),
        "cost": [{"value": v, "unit": u, "source": None} for u, v in (rollup.cost_by_unit if rollup else [])],
        "actor": _ref(*actor) if actor else None,
    }) + b"\n"  # fmt: skip
