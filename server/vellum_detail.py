"""`GET /v1/workflow-executions/{execution_id}/detail` in the shape of
../shared/seeds/vellum-workflow-execution-detail.txt, with keyset paging of spans.

Every answer validates under the Vellum SDK's own models (`WorkflowExecutionDetail`), for executions
written in any format: the root span is a `workflow.execution`, every other span a `node.execution`
(labelled with its own name, its definition id or else its span id); a span's events are the Vellum events
of its own type (other formats' events are not Vellum events, so they are left out); spans still running
are left out of `spans` (the SDK requires `end_ts`) until they end, while the execution's `end` is null.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query, Request

from graph.scalars import format_datetime
from resolvers.records import EventRecord, SpanRecord
from resolvers.rest_reads import events_of_spans, execution_and_trace, execution_rollup
from server.request_body import app_state, principal
from server.responses import JSON

router = APIRouter(tags=["vellum"])


def _load(raw: str) -> Any:
    return orjson.loads(raw) if raw else None


def _type_of(value: Any) -> str:
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, bool) or value is None:
        return "JSON"
    if isinstance(value, int | float):
        return "NUMBER"
    return "JSON"


def _typed(key: str, value: Any) -> dict[str, Any]:
    kind = _type_of(value)
    return {"id": key, "name": key, "type": kind, "value": str(value) if kind == "STRING" else value}


def _is_typed(value: Any) -> bool:
    return isinstance(value, dict) and {"id", "name", "type"} <= value.keys() and isinstance(value["type"], str)


def typed_values(raw: str) -> list[dict[str, Any]]:
    """Vellum's typed inputs/outputs: [{id, name, type, value}]; lists already in that shape pass through."""
    value = _load(raw)
    if isinstance(value, list):
        return [v if _is_typed(v) else _typed(str(i), v) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return [_typed(k, v) for k, v in value.items()]
    return [] if value is None else [_typed("value", value)]


# What Vellum's detail document gives a failure that names no code of its own.
DEFAULT_ERROR_CODE = "INTERNAL_SERVER_ERROR"


def _error(raw: str) -> dict[str, Any] | None:
    value = _load(raw)
    if value is None:
        return None
    if not isinstance(value, dict):
        return {"message": str(value), "raw_data": None, "code": DEFAULT_ERROR_CODE, "stacktrace": None}
    raw_data = value.get("raw_data")
    stacktrace = value.get("stacktrace")
    return {"message": str(value.get("message") or ""),
            "raw_data": raw_data if isinstance(raw_data, dict | str) else None,
            "code": str(value.get("code") or DEFAULT_ERROR_CODE),
            "stacktrace": stacktrace if isinstance(stacktrace, str) else None}  # fmt: skip


def _usage_result(usage: list[tuple[str, int, int, int, int]], cost: list[tuple[str, float]]) -> dict[str, Any]:
    return {
        "usage": [
            {"ml_model_name": model, "ml_model_usage": {
                "input_token_count": i, "output_token_count": o, "cache_creation_input_tokens": cc,
                "cache_read_input_tokens": cr}}
            for model, i, o, cc, cr in usage
        ],
        "cost": [{"value": v, "unit": u} for u, v in cost],
    }  # fmt: skip


def _span_usage(span: SpanRecord) -> dict[str, Any] | None:
    if not span.usage and not span.cost:
        return None
    usage = [(u["model"], u["input_tokens"], u["output_tokens"], u["cache_creation_input_tokens"],
              u["cache_read_input_tokens"]) for u in _load(span.usage) or []]  # fmt: skip
    cost = [(c["unit"], c["value"]) for c in _load(span.cost) or []]
    return _usage_result(usage, cost)


def _events(records: list[EventRecord], prefix: str) -> list[Any]:
    """The span's Vellum events, as they were sent, of the span's own type (`workflow.execution.*` or
    `node.execution.*`): the SDK's span models accept no others."""
    return [_load(r.payload) for r in records if r.source == "vellum" and r.name.startswith(prefix)]


def _span(span: SpanRecord, events: list[EventRecord], root_id: str) -> dict[str, Any]:
    attributes = _load(span.attributes) or {}
    attributes = attributes if isinstance(attributes, dict) else {}
    is_workflow = span.kind == "WORKFLOW" or (span.kind != "NODE" and (span.id == root_id or not span.parent_id))
    key = "workflow_definition" if is_workflow else "node_definition"
    definition = attributes.get(key)
    definition_id = definition.get("id") if isinstance(definition, dict) else None
    label = span.name or span.id
    span_attributes = {"label": label, "workflow_id" if is_workflow else "node_id": str(definition_id or span.id)}
    name = "workflow.execution" if is_workflow else "node.execution"
    return {
        "name": name,
        "events": _events(events, name + "."),
        "attributes": span_attributes,
        "usage_result": _span_usage(span),
        "span_id": span.id,
        "start_ts": format_datetime(span.start_time),
        "end_ts": format_datetime(span.end_time) if span.end_time else None,
        "parent_span_id": span.parent_id or None,
    }


def _parent_context(attributes: Any) -> Any:
    """The root's Vellum parent context as sent (a dict with its `type`); other formats have none."""
    parent = attributes.get("parent") if isinstance(attributes, dict) else None
    return parent if isinstance(parent, dict) and isinstance(parent.get("type"), str) else None


def _latest_state(root_events: list[EventRecord]) -> Any:
    """The workflow state of the latest `workflow.execution.snapshotted` event, when the root is in the page."""
    for record in reversed(root_events):
        if record.name.endswith(".snapshotted"):
            body = (_load(record.payload) or {}).get("body") or {}
            return body.get("state")
    return None


@router.get("/v1/workflow-executions/{execution_id}/detail")
async def workflow_execution_detail(
    request: Request,
    execution_id: str,
    prev_span_id: str | None = None,
    span_limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> JSON:
    ch, tenant_id = app_state(request).ch, principal(request).tenant_id
    found = await execution_and_trace(ch, tenant_id, execution_id)
    if found is None:
        raise HTTPException(status_code=404, detail="Not Found")
    execution, trace = found
    spans = trace.spans
    if prev_span_id is not None:
        previous = trace.by_id.get(prev_span_id)
        if previous is None:
            raise HTTPException(
                status_code=422,
                detail=[
                    {"loc": ["query", "prev_span_id"], "msg": "no such span in this execution", "type": "value_error"}
                ],
            )
        spans = trace.after((previous.start_time, previous.id))
    spans = [s for s in spans if s.end_time is not None]
    if span_limit is not None:
        spans = spans[:span_limit]
    events = await events_of_spans(ch, tenant_id, execution_id, [s.id for s in spans])
    rollup = await execution_rollup(ch, tenant_id, execution_id)
    attributes = _load(execution.attributes) or {}
    has_usage = rollup.usage_by_model or rollup.cost_by_unit
    return JSON(
        {
            "span_id": execution.root_span_id,
            "parent_context": _parent_context(attributes),
            "start": format_datetime(execution.start_time),
            "end": format_datetime(execution.end_time) if execution.end_time else None,
            "inputs": typed_values(execution.inputs),
            "outputs": typed_values(execution.outputs),
            "error": _error(execution.error),
            "usage_results": [_usage_result(rollup.usage_by_model, rollup.cost_by_unit)] if has_usage else None,
            "spans": [_span(s, events.get((execution_id, s.id), []), execution.root_span_id) for s in spans],
            "state": _latest_state(events.get((execution_id, execution.root_span_id), [])),
        }
    )
