"""Vellum monitoring events (`POST /monitoring/v1/events`): lifecycle events that build spans."""

from __future__ import annotations

from typing import Any

from ingest import lifecycle
from ingest.outcome import outcome_of
from ingest.records import Batch, CanonicalEvent, SpanPiece
from ingest.usage import apply_usage, normalize_cost, normalize_usage
from ingest.validation import (
    dumps,
    new_id,
    no_nul,
    no_nul_in,
    now,
    obj,
    opt_obj,
    opt_str,
    parse_time,
    registry_key,
    req_str,
)
from storage.postgres.registry import Sighting

_DEFINITION_KEYS = (("workflow_definition", "workflow"), ("node_definition", "node"))


def adapt(items: list[Any]) -> Batch:
    batch = Batch()
    received = now()
    for index, raw in enumerate(items):
        loc = (index,)
        item = obj(raw, loc)
        name = req_str(item, "name", loc)
        trace_id = req_str(item, "trace_id", loc)
        span_id = req_str(item, "span_id", loc)
        event_id = opt_str(item, "id", loc) or new_id()
        ts = parse_time(item["timestamp"], (*loc, "timestamp")) if item.get("timestamp") else received
        body = opt_obj(item, "body", loc) or {}
        parent = opt_obj(item, "parent", loc)
        piece = _piece(name, ts, body, parent, (*loc, "body"), batch)
        if not item.get("id"):
            item = {**item, "id": event_id}
        batch.events.append(
            CanonicalEvent(
                id=event_id,
                name=name,
                timestamp=ts,
                source="vellum",
                execution_id=trace_id,
                span_id=span_id,
                outcome=outcome_of(name, None),
                payload=dumps(item, loc),
                span=piece,
            )
        )
    return batch


def _piece(
    name: str,
    ts: Any,
    body: dict[str, Any],
    parent: dict[str, Any] | None,
    loc: tuple[Any, ...],
    batch: Batch,
) -> SpanPiece:
    parent_span_id = parent["span_id"] if parent is not None and isinstance(parent.get("span_id"), str) else ""
    piece = lifecycle.lifecycle_piece(name, ts, parent_span_id)
    attributes: dict[str, Any] = {}
    for key, kind in _DEFINITION_KEYS:
        definition = body.get(key)
        if isinstance(definition, dict):
            attributes[key] = definition
            def_loc = (*loc, key)
            def_name = definition.get("name")
            if isinstance(def_name, str):
                piece.name = no_nul(def_name, (*def_loc, "name"))
            def_id = definition.get("id")
            # one sighting per definition and batch: a batch repeats the same few definitions
            if isinstance(def_id, str) and (kind, registry_key(def_id, (*def_loc, "id"))) not in batch.seen_definitions:
                batch.seen_definitions.add((kind, def_id))
                module = definition.get("module")
                if isinstance(module, list):  # kept as Postgres jsonb; dumps first bounds its depth
                    dumps(module, (*def_loc, "module"))
                    no_nul_in(module, (*def_loc, "module"))
                batch.definitions.append(
                    Sighting("", kind, def_id, ts, def_name if isinstance(def_name, str) else None,
                             module if isinstance(module, list) else None)
                )  # fmt: skip
    if parent is not None:
        attributes["parent"] = parent
    if "inputs" in body:
        piece.inputs = dumps(body["inputs"], (*loc, "inputs"))
    if "outputs" in body:
        piece.outputs = dumps(body["outputs"], (*loc, "outputs"))
    error = body.get("error")
    if error is not None:
        piece.error = dumps(error, (*loc, "error"))
        if isinstance(error, dict) and "CANCEL" in str(error.get("code", "")).upper():
            piece.status = lifecycle.CANCELLED
    if attributes:
        piece.attributes = dumps(attributes, loc)
    usage_raw = body.get("usage_result") or body.get("usage")
    usage_loc = (*loc, "usage_result" if "usage_result" in body else "usage")
    usage = normalize_usage(usage_raw, usage_loc)
    cost_raw = usage_raw.get("cost") if isinstance(usage_raw, dict) else None
    apply_usage(piece, usage, normalize_cost(cost_raw, (*usage_loc, "cost")))
    return piece
