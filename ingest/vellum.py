"""Vellum monitoring events (`POST /monitoring/v1/events`): lifecycle events that build spans.

The REST bulk path adapts every event of a request on the event loop, so the common case is kept lean:
fields are checked inline and the checking helpers (which build the error's location) are only called for a
value that fails, to raise the same error they always do.
"""

from __future__ import annotations

from datetime import UTC, datetime
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
from storage.clickhouse.values import MAX_TIME, MIN_TIME
from storage.postgres.registry import Sighting

_DEFINITION_KEYS = (("workflow_definition", "workflow"), ("node_definition", "node"))


def adapt(items: list[Any]) -> Batch:
    batch = Batch()
    received = now()
    append = batch.events.append
    for index, item in enumerate(items):
        if type(item) is not dict:
            item = obj(item, (index,))
        name = item.get("name")
        if type(name) is not str or not name:
            name = req_str(item, "name", (index,))
        trace_id = item.get("trace_id")
        if type(trace_id) is not str or not trace_id:
            trace_id = req_str(item, "trace_id", (index,))
        span_id = item.get("span_id")
        if type(span_id) is not str or not span_id:
            span_id = req_str(item, "span_id", (index,))
        event_id = item.get("id")
        if type(event_id) is not str:
            event_id = opt_str(item, "id", (index,))
        timestamp = item.get("timestamp")
        ts = _time(timestamp, index) if timestamp else received
        body = item.get("body")
        if type(body) is not dict:
            body = opt_obj(item, "body", (index,)) or {}
        parent = item.get("parent")
        if parent is not None and type(parent) is not dict:
            parent = opt_obj(item, "parent", (index,))
        piece = _piece(name, ts, body, parent, index, batch)
        if not event_id:
            event_id = new_id()
        if not item.get("id"):  # the stored payload names the id the event got (a numeric 0 too, as "0")
            item = {**item, "id": event_id}
        # positional: CanonicalEvent's fields in order (id, name, timestamp, source, execution_id, span_id, the
        # six actor/resource/correlation fields, outcome, payload, span), cheaper than keywords per event
        append(CanonicalEvent(event_id, name, ts, "vellum", trace_id, span_id, "", "", "", "", "", "",
                              outcome_of(name, None), dumps(item, (index,)), piece))  # fmt: skip
    return batch


def _time(value: Any, index: int) -> datetime:
    """parse_time's result, without its checks' calls for the usual ISO text in range."""
    if type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is UTC and MIN_TIME <= parsed <= MAX_TIME:
            return parsed
    return parse_time(value, (index, "timestamp"))


def _piece(
    name: str,
    ts: datetime,
    body: dict[str, Any],
    parent: dict[str, Any] | None,
    index: int,
    batch: Batch,
) -> SpanPiece:
    """The event's span piece, its fields computed first and the piece made once (a few µs an event of the REST
    bulk path: one constructor call instead of defaults overwritten field by field)."""
    span_name = ""
    attributes: dict[str, Any] = {}
    for key, kind in _DEFINITION_KEYS:
        definition = body.get(key)
        if isinstance(definition, dict):
            attributes[key] = definition
            span_name = _definition(definition, key, kind, ts, index, batch, span_name)
    if parent is not None:
        attributes["parent"] = parent
    inputs = dumps(body["inputs"], (index, "body", "inputs")) if "inputs" in body else ""
    outputs = dumps(body["outputs"], (index, "body", "outputs")) if "outputs" in body else ""
    kind, status, start_time, end_time = lifecycle.lifecycle_fields(name, ts)
    error = body.get("error")
    error_text = ""
    if error is not None:
        error_text = dumps(error, (index, "body", "error"))
        if isinstance(error, dict) and "CANCEL" in str(error.get("code", "")).upper():
            status = lifecycle.CANCELLED
    parent_span_id = parent.get("span_id") if parent is not None else ""
    piece = SpanPiece(
        parent_span_id if isinstance(parent_span_id, str) else "", span_name, kind, status, start_time, end_time,
        inputs, outputs, error_text, dumps(attributes, (index, "body")) if attributes else "",
    )  # fmt: skip
    usage_raw = body.get("usage_result") or body.get("usage")
    cost_raw = usage_raw.get("cost") if isinstance(usage_raw, dict) else None
    if usage_raw is not None or cost_raw is not None:
        usage_loc = (index, "body", "usage_result" if "usage_result" in body else "usage")
        usage = normalize_usage(usage_raw, usage_loc)
        apply_usage(piece, usage, normalize_cost(cost_raw, (*usage_loc, "cost")))
    return piece


def _definition(
    definition: dict[str, Any], key: str, kind: str, ts: datetime, index: int, batch: Batch, span_name: str
) -> str:
    """A workflow or node definition names its span (the span's name it returns: its own when it has one, else
    `span_name`), and is sighted for the registry once per batch."""
    def_name = definition.get("name")
    if isinstance(def_name, str):
        span_name = def_name if "\x00" not in def_name else no_nul(def_name, (index, "body", key, "name"))
    def_id = definition.get("id")
    if not isinstance(def_id, str) or (kind, def_id) in batch.seen_definitions:
        return span_name  # one sighting per definition and batch: a batch repeats the same few definitions
    registry_key(def_id, (index, "body", key, "id"))
    batch.seen_definitions.add((kind, def_id))
    module = definition.get("module")
    if isinstance(module, list):  # kept as Postgres jsonb; dumps first bounds its depth
        dumps(module, (index, "body", key, "module"))
        no_nul_in(module, (index, "body", key, "module"))
    batch.definitions.append(
        Sighting("", kind, def_id, ts, def_name if isinstance(def_name, str) else None,
                 module if isinstance(module, list) else None)
    )  # fmt: skip
    return span_name
