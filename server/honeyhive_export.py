"""HoneyHive's event export (`POST /v1/events/export`), the read behind the SDK's `client.events.export`,
`events.list`, `events.get_by_session_id` and `list_events`: the spans of every format, as HoneyHive
events (`LegacyEvent`), filtered, a page at a time → `{"events": [...], "totalEvents": N}`."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request

from ingest.validation import InvalidInput, Loc, obj, opt_list, parse_time
from resolvers.records import SpanRecord
from resolvers.span_export import FIELDS, FieldFilter, export_spans
from server.request_body import app_state, json_body, principal, reraise_for_rest
from server.request_schemas import HoneyHiveExport, openapi_body
from server.responses import JSON

router = APIRouter(tags=["honeyhive"])

MAX_LIMIT = 7500  # HoneyHive's own cap
_OPERATORS = {"is": (False, False), "is not": (False, True), "contains": (True, False), "not contains": (True, True)}
_TYPES = ("model", "tool", "chain", "session")
_KEPT = ("config", "metadata", "feedback", "metrics", "user_properties")


def _filters(body: dict[str, Any]) -> list[FieldFilter]:
    out = []
    for index, raw in enumerate(opt_list(body, "filters", ()) or []):
        loc: Loc = ("filters", index)
        item = obj(raw, loc)
        field, operator, value = item.get("field"), item.get("operator", "is"), item.get("value")
        if not isinstance(field, str) or field not in FIELDS:
            raise InvalidInput((*loc, "field"), f"must be one of {', '.join(FIELDS)}", "enum")
        if not isinstance(operator, str) or operator not in _OPERATORS:
            raise InvalidInput((*loc, "operator"), f"must be one of {', '.join(_OPERATORS)}", "enum")
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise InvalidInput((*loc, "value"), "must be a string", "string_type")
        contains, negate = _OPERATORS[operator]
        out.append(FieldFilter(field, str(value), contains, negate))
    return out


def _int(body: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput((key,), f"must be an integer from {low} to {high}", "int_range")
    return value


def _json(text: str) -> Any:
    return orjson.loads(text) if text else None


def _object(value: Any) -> dict[str, Any] | None:
    """HoneyHive's inputs and outputs are objects; another format's plain value is wrapped as `value`."""
    if value is None or isinstance(value, dict):
        return value
    return {"value": value}


def _millis(value: Any) -> float | None:
    return value.timestamp() * 1000 if value is not None else None


def legacy_event(span: SpanRecord) -> dict[str, Any]:
    attributes = _json(span.attributes)
    attributes = attributes if isinstance(attributes, dict) else {}
    error = _json(span.error)
    kind = span.kind.lower()
    event: dict[str, Any] = {
        "event_id": span.id,
        "session_id": span.execution_id,
        "parent_id": span.parent_id or None,
        "children_ids": attributes.get("children_ids") if isinstance(attributes.get("children_ids"), list) else [],
        "event_type": kind if kind in _TYPES else "model" if kind in ("llm", "embedding") else "chain",
        "event_name": span.name,
        "source": attributes.get("source") if isinstance(attributes.get("source"), str) else None,
        "project_id": attributes.get("project_id") if isinstance(attributes.get("project_id"), str) else None,
        "inputs": _object(_json(span.inputs)),
        "outputs": _object(_json(span.outputs)),
        "error": (error.get("message") if isinstance(error, dict) else str(error)) if error is not None else None,
        "start_time": _millis(span.start_time),
        "end_time": _millis(span.end_time),
        "duration": span.duration_ms,
    }
    for key in _KEPT:
        value = attributes.get(key)
        event[key] = value if isinstance(value, dict) else {}
    return event


@router.post("/v1/events/export", openapi_extra=openapi_body(HoneyHiveExport, "filters and a page"))
async def export_events(request: Request) -> JSON:
    """Spans as HoneyHive events, oldest first. Filters: `session_id`, `event_id`, `parent_id`, `event_name`,
    `event_type` with `is`, `is not`, `contains`, `not contains`; `dateRange` `$gte`/`$lte` on the start."""
    try:
        body = obj(await json_body(request), ())
        filters = _filters(body)
        date_range = obj(body.get("dateRange") or {}, ("dateRange",))
        since = parse_time(date_range["$gte"], ("dateRange", "$gte")) if date_range.get("$gte") else None
        until = parse_time(date_range["$lte"], ("dateRange", "$lte")) if date_range.get("$lte") else None
        limit = _int(body, "limit", 1000, 1, MAX_LIMIT)
        page = _int(body, "page", 1, 1, 2**31)
        projections = opt_list(body, "projections", ())
    except InvalidInput as exc:
        raise reraise_for_rest(exc, True) from None
    spans, total = await export_spans(
        app_state(request).ch, principal(request).tenant_id, filters, since, until, limit, (page - 1) * limit
    )
    events = [legacy_event(s) for s in spans]
    if projections:
        events = [{k: e[k] for k in projections if isinstance(k, str) and k in e} for e in events]
    return JSON({"events": events, "totalEvents": total})
