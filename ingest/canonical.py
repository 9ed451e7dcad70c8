"""Tracehouse's own GraphQL inputs (`ingestEvents`, `logSpans`), already type-checked by the schema.

Inputs arrive as dicts keyed by the GraphQL field names, as graphql-core coerces them; this module never
sees strawberry.
"""

from __future__ import annotations

import uuid
from typing import Any

from ingest import lifecycle
from ingest.outcome import FAILURE, SUCCESS, outcome_of
from ingest.records import Batch, CanonicalEvent, SpanPiece
from ingest.usage import apply_usage, normalize_cost, normalize_usage
from ingest.validation import InvalidInput, Loc, dumps, new_id, now, parse_time, registry_key

_SPAN_NAMESPACE = uuid.UUID("5b1c3a52-9f1e-4a7e-9a43-7c2f6f0f1d10")


def _ref(value: dict[str, str] | None, loc: Loc) -> tuple[str, str]:
    if not value:
        return ("", "")
    return registry_key(value["type"], (*loc, "type")), registry_key(value["id"], (*loc, "id"))


def _time(value: Any, loc: Loc) -> Any:
    return None if value is None else parse_time(value, loc)


def adapt_events(items: list[dict[str, Any]]) -> Batch:
    batch = Batch()
    received = now()
    for index, item in enumerate(items):
        loc: Loc = ("events", index)
        name = item["name"]
        if not name:
            raise InvalidInput((*loc, "name"), "must be a non-empty string")
        ts = _time(item.get("timestamp"), (*loc, "timestamp")) or received
        execution_id = item.get("executionId") or ""
        span_id = item.get("spanId") or ""
        if span_id and not execution_id:
            raise InvalidInput((*loc, "executionId"), "is required when spanId is given", "missing")
        payload = item.get("payload")
        actor_type, actor_id = _ref(item.get("actor"), (*loc, "actor"))
        resource_type, resource_id = _ref(item.get("resource"), (*loc, "resource"))
        piece = _lifecycle_piece(name, ts, item.get("parentSpanId") or "", payload, loc) if span_id else None
        batch.events.append(
            CanonicalEvent(
                id=item.get("id") or new_id(),
                name=name,
                timestamp=ts,
                source="graphql",
                execution_id=execution_id,
                span_id=span_id,
                actor_type=actor_type,
                actor_id=actor_id,
                resource_type=resource_type,
                resource_id=resource_id,
                correlation_id=item.get("correlationId") or "",
                causation_id=item.get("causationId") or "",
                outcome=outcome_of(name, payload),
                payload=dumps(payload, (*loc, "payload")),
                span=piece,
            )
        )
    return batch


def _lifecycle_piece(name: str, ts: Any, parent: str, payload: Any, loc: Loc) -> SpanPiece:
    """A span event carries its span's fields in the payload (name, kind, inputs, outputs, error, usage…)."""
    piece = lifecycle.lifecycle_piece(name, ts, parent)
    body = payload if isinstance(payload, dict) else {}
    if isinstance(body.get("name"), str):
        piece.name = body["name"]
    if isinstance(body.get("kind"), str):
        piece.kind = body["kind"].upper()
    ploc = (*loc, "payload")
    for key in ("inputs", "outputs", "error", "attributes"):
        if body.get(key) is not None:
            setattr(piece, key, dumps(body[key], (*ploc, key)))
    apply_usage(
        piece,
        normalize_usage(body.get("usage"), (*ploc, "usage")),
        normalize_cost(body.get("cost"), (*ploc, "cost")),
    )
    return piece


def adapt_spans(items: list[dict[str, Any]]) -> Batch:
    batch = Batch()
    for index, item in enumerate(items):
        loc: Loc = ("spans", index)
        execution_id = item["executionId"]
        if not execution_id:
            raise InvalidInput((*loc, "executionId"), "must be a non-empty ID")
        if not item["name"]:
            raise InvalidInput((*loc, "name"), "must be a non-empty string")
        span_id = item.get("id") or new_id()
        start = parse_time(item["startTime"], (*loc, "startTime"))
        end = _time(item.get("endTime"), (*loc, "endTime"))
        if end is not None and end < start:
            raise InvalidInput((*loc, "endTime"), "must not be before startTime")
        error = item.get("error")
        if item.get("status"):
            status = lifecycle.normalize_status(item["status"])
            if status is None:
                raise InvalidInput((*loc, "status"), f"must be one of {', '.join(lifecycle.STATUSES)}", "enum")
        elif error is not None:
            status = lifecycle.FAILED
        else:
            status = lifecycle.SUCCEEDED if end is not None else lifecycle.RUNNING
        if status in lifecycle.TERMINAL and end is None:
            end = start
        piece = SpanPiece(
            parent_span_id=item.get("parentId") or "",
            name=item["name"],
            kind=(item.get("kind") or "SPAN").upper(),
            status=status,
            start_time=start,
            end_time=end,
        )
        for key in ("inputs", "outputs", "error", "attributes"):
            if item.get(key) is not None:
                setattr(piece, key, dumps(item[key], (*loc, key)))
        apply_usage(
            piece,
            normalize_usage(item.get("usage"), (*loc, "usage")),
            normalize_cost(item.get("cost"), (*loc, "cost")),
        )
        # A span sent again with the same id is the same fact: derive its event id from it.
        event_id = str(uuid.uuid5(_SPAN_NAMESPACE, f"{execution_id}\x00{span_id}")) if item.get("id") else new_id()
        outcome = FAILURE if status == lifecycle.FAILED else SUCCESS if status == lifecycle.SUCCEEDED else ""
        batch.events.append(
            CanonicalEvent(
                id=event_id,
                name="span.logged",
                timestamp=start,
                source="graphql",
                execution_id=execution_id,
                span_id=span_id,
                outcome=outcome,
                payload=dumps({"spanId": span_id, "status": status}),
                span=piece,
            )
        )
    return batch
