"""Vellum monitoring events (`POST /monitoring/v1/events`): lifecycle events that build spans.

The REST bulk path adapts every event of a request on the event loop, so items first take the usual path
(_usual_run: one loop, few calls, no error locations built), which declines an item of any other shape before
it changes the batch; the general path (_event) then adapts or refuses that item, checking field by field in a
fixed order. A bad batch gets the general path's error (location, message) whichever path met it first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

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
    storable_text,
)
from storage.clickhouse.values import MAX_TIME, MIN_TIME
from storage.postgres.registry import Sighting

_DEFINITION_KEYS = (("workflow_definition", "workflow"), ("node_definition", "node"))
_NO_BODY: dict[str, Any] = {}  # read only: the body of an event without one


def adapt(items: list[Any]) -> Batch:
    batch = Batch()
    received = now()
    index, count = 0, len(items)
    while index < count:
        index = _usual_run(items, index, received, batch)
        if index < count:  # an item the usual path declined: the general path adapts it or refuses the batch
            batch.events.append(_event(items[index], index, received, batch))
            index += 1
    return batch


def _event(item: Any, index: int, received: datetime, batch: Batch) -> CanonicalEvent:
    """The general path: any item, its fields checked in order; the first that fails raises its InvalidInput."""
    item = obj(item, (index,))
    name = req_str(item, "name", (index,))
    trace_id = req_str(item, "trace_id", (index,))
    span_id = req_str(item, "span_id", (index,))
    event_id, item = _given_id(item, index)
    timestamp = item.get("timestamp")
    ts = parse_time(timestamp, (index, "timestamp")) if timestamp else received
    body = opt_obj(item, "body", (index,)) or {}
    parent = opt_obj(item, "parent", (index,))
    piece = _piece(name, ts, body, parent, index, batch)
    return CanonicalEvent(event_id, name, ts, "vellum", trace_id, span_id, "", "", "", "", "", "",
                          outcome_of(name, None), dumps(item, (index,)), piece)  # fmt: skip


def _given_id(item: dict[str, Any], index: int) -> tuple[str, dict[str, Any]]:
    """The event's id (a number's text; a new one for none or "") and the item to store as its payload, which
    names the id the event got when its own is absent or falsy (a numeric 0 too, as "0"); InvalidInput for an id
    of another type."""
    event_id = opt_str(item, "id", (index,)) or new_id()
    return event_id, item if item.get("id") else {**item, "id": event_id}


def _piece(
    name: str,
    ts: datetime,
    body: dict[str, Any],
    parent: dict[str, Any] | None,
    index: int,
    batch: Batch,
) -> SpanPiece:
    """The event's span piece (general path), its fields computed first and the piece made once."""
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
        status = _error_status(error, status)
    parent_span_id = parent.get("span_id") if parent is not None else ""
    piece = SpanPiece(
        parent_span_id if isinstance(parent_span_id, str) else "", span_name, kind, status, start_time, end_time,
        inputs, outputs, error_text, dumps(attributes, (index, "body")) if attributes else "",
    )  # fmt: skip
    _usage(piece, body, index)
    return piece


def _error_status(error: Any, status: str) -> str:
    """An error whose code says cancel cancels the span; any other leaves its status."""
    if isinstance(error, dict) and "CANCEL" in str(error.get("code", "")).upper():
        return lifecycle.CANCELLED
    return status


def _usage(piece: SpanPiece, body: dict[str, Any], index: int) -> None:
    """The body's usage (`usage_result`, else `usage`) and its cost, onto the piece; InvalidInput where bad."""
    usage_raw = body.get("usage_result") or body.get("usage")
    cost_raw = usage_raw.get("cost") if isinstance(usage_raw, dict) else None
    if usage_raw is not None or cost_raw is not None:
        usage_loc = (index, "body", "usage_result" if "usage_result" in body else "usage")
        usage = normalize_usage(usage_raw, usage_loc)
        apply_usage(piece, usage, normalize_cost(cost_raw, (*usage_loc, "cost")))


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


# name -> (kind, status, whether it starts the span, whether it ends it, outcome): lifecycle_fields' and
# outcome_of's answers, one lookup an event on the usual path. Bounded as their caches are (lifecycle.py).
_NAMES: dict[str, tuple[str, str, bool, bool, str]] = {}
_NAMES_MAX = 4096


def _name_fields(name: str) -> tuple[str, str, bool, bool, str]:
    fields = _NAMES.get(name)
    if fields is None:
        kind, status, change = lifecycle.phase_of(name) or ("", "", "")
        fields = (kind, status, change == lifecycle.STARTED, change == lifecycle.FINISHED, outcome_of(name, None))
        if len(name) <= lifecycle.CACHED_NAME_MAX and len(_NAMES) < _NAMES_MAX:
            _NAMES[name] = fields
    return fields


def _usual_run(items: list[Any], start: int, received: datetime, batch: Batch) -> int:
    """Adapt items from `start` on until one the usual path declines: its index (the general path's to adapt or
    refuse), or len(items). One loop, not a call an item: a call costs ~0.1 µs.

    The item's own fields are checked as on the general path and in its order, inline for the common values and
    by the general path's helper for any other (which converts it or raises that path's error). Declined: a
    definition's name with NUL, and a payload that dumps would refuse (nested too deep, an integer past 64 bits),
    which the general path refuses with its location. Each of the event's other JSON texts is a part of the
    payload's (the attributes: made of such parts, no deeper), so none can fail where the payload did not: they are
    encoded unchecked. Only then is the batch changed
    (definition sightings) and may the item be refused (a bad definition id, bad usage), as the general path would:
    its checks before those are the ones passed here."""
    append = batch.events.append
    seen = batch.seen_definitions
    for index in range(start, len(items)):
        item = items[index]
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
        if type(event_id) is not str or not event_id:
            event_id, item = _given_id(item, index)
        timestamp = item.get("timestamp")
        if not timestamp:
            ts = received
        else:
            try:
                parsed: datetime | None = datetime.fromisoformat(timestamp)
            except (TypeError, ValueError):
                parsed = None
            if parsed is not None and parsed.tzinfo is UTC and MIN_TIME <= parsed <= MAX_TIME:
                ts = parsed
            else:  # another offset, naive, out of range or not a time: converted, or the general path's error
                ts = parse_time(timestamp, (index, "timestamp"))
        body = item.get("body")
        if type(body) is not dict:
            body = opt_obj(item, "body", (index,)) or _NO_BODY
        parent = item.get("parent")
        if parent is not None and type(parent) is not dict:
            parent = opt_obj(item, "parent", (index,))
        span_name = ""
        attributes: dict[str, Any] = {}
        sightings: list[tuple[dict[str, Any], str, str]] | None = None
        for key, kind in _DEFINITION_KEYS:
            definition = body.get(key)
            if isinstance(definition, dict):
                attributes[key] = definition
                def_name = definition.get("name")
                if isinstance(def_name, str):
                    if "\x00" in def_name:
                        return index
                    span_name = def_name
                def_id = definition.get("id")
                if isinstance(def_id, str) and (kind, def_id) not in seen:  # its first in the batch: sighted below
                    sightings = [*(sightings or ()), (definition, key, kind)]
        payload = storable_text(item)
        if payload is None:
            return index
        # the item is the usual path's from here: the batch may change, and the item be refused
        if sightings:
            for definition, key, kind in sightings:
                _definition(definition, key, kind, ts, index, batch, "")
        parent_span_id = ""
        if parent is not None:
            attributes["parent"] = parent
            parent_id = parent.get("span_id")
            if isinstance(parent_id, str):
                parent_span_id = parent_id
        kind, status, starts, ends, outcome = _NAMES.get(name) or _name_fields(name)
        error = body.get("error")
        error_text = ""
        if error is not None:
            error_text = orjson.dumps(error).decode()
            status = _error_status(error, status)
        piece = SpanPiece(
            parent_span_id, span_name, kind, status, ts if starts else None, ts if ends else None,
            orjson.dumps(body["inputs"]).decode() if "inputs" in body else "",
            orjson.dumps(body["outputs"]).decode() if "outputs" in body else "",
            error_text, orjson.dumps(attributes).decode() if attributes else "",
        )  # fmt: skip
        if "usage_result" in body or "usage" in body:  # else _usage finds none
            _usage(piece, body, index)
        # positional: CanonicalEvent's fields in order (id, name, timestamp, source, execution_id, span_id, the
        # six actor/resource/correlation fields, outcome, payload, span), cheaper than keywords per event
        append(CanonicalEvent(event_id, name, ts, "vellum", trace_id, span_id, "", "", "", "", "", "", outcome,
                              payload, piece))  # fmt: skip
    return len(items)
