"""HoneyHive events (`POST /v1/events`, `POST /session/{session_id}/event`): complete span-like events.

A `session` event is the execution (its session_id is the execution id and its root span id); model, tool
and chain events are spans of that session, children of `parent_id` or, without one, of the session.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ingest import lifecycle
from ingest.outcome import FAILURE, SUCCESS
from ingest.records import Batch, CanonicalEvent, SpanPiece
from ingest.usage import apply_usage, normalize_cost, normalize_usage
from ingest.validation import (
    InvalidInput,
    Loc,
    after,
    dumps,
    new_id,
    now,
    obj,
    opt_list,
    opt_obj,
    opt_str,
    parse_millis,
)

EVENT_TYPES = ("model", "tool", "chain", "session")
_KEPT = ("config", "metadata", "feedback", "metrics", "user_properties", "children_ids", "project_id",
         "project", "source")  # fmt: skip
_MAX_DEPTH = 32
_LINKS = uuid.UUID("3f0c5a1e-2b7d-4c59-9a0e-6d1f2b8c7e44")


def adapt_create(item: Any) -> Batch:
    """`POST /v1/events`: a bare event with a required event_type (model/tool/chain/session) and inputs."""
    item = obj(item, ())
    event_type = item.get("event_type")
    if event_type is None:
        raise InvalidInput(("event_type",), "field required", "missing")
    if event_type not in EVENT_TYPES:
        raise InvalidInput(("event_type",), f"must be one of {', '.join(EVENT_TYPES)}", "enum")
    if item.get("inputs") is None:
        raise InvalidInput(("inputs",), "field required", "missing")
    batch = Batch()
    _adapt(item, (), None, None, batch, 0)
    return batch


def adapt_session_event(session_id: str, item: Any) -> Batch:
    """`POST /session/{session_id}/event`: the path names the session; nested `children` are spans too."""
    item = obj(item, ())
    batch = Batch()
    _adapt(item, (), session_id, None, batch, 0)
    return batch


def _adapt(
    item: dict[str, Any], loc: Loc, session_id: str | None, parent_id: str | None, batch: Batch, depth: int,
    within: tuple[datetime, datetime | None] | None = None,
) -> str:
    """`within` is the (start, end) of the event a nested child came in: a child that gives no times of its
    own (the seed's `children: [{}]`) took place within it, and is finished when it is."""
    if depth > _MAX_DEPTH:
        raise InvalidInput(loc, f"children nest deeper than {_MAX_DEPTH} levels")
    event_type = opt_str(item, "event_type", loc) or "chain"
    is_session = event_type == "session"
    session = session_id or opt_str(item, "session_id", loc)
    event_id = opt_str(item, "event_id", loc) or (session if is_session and session else new_id())
    execution_id = session or event_id
    span_id = execution_id if is_session else event_id
    parent = opt_str(item, "parent_id", loc) or parent_id or ("" if is_session or not session else session)

    start = within[0] if within is not None else now()
    if item.get("start_time") is not None:
        start = parse_millis(item["start_time"], (*loc, "start_time"))
    end = parse_millis(item["end_time"], (*loc, "end_time")) if item.get("end_time") is not None else None
    duration = item.get("duration")
    if duration is not None:
        ended = after(start, duration, (*loc, "duration"))
        end = end if end is not None else ended
    inputs = opt_obj(item, "inputs", loc)
    outputs = opt_obj(item, "outputs", loc)
    error = item.get("error")
    if error is not None and not isinstance(error, str):
        raise InvalidInput((*loc, "error"), "must be a string or null", "string_type")
    for key in ("config", "metadata", "feedback", "metrics", "user_properties"):
        opt_obj(item, key, loc)
    opt_list(item, "children_ids", loc)

    if end is None and within is not None and within[1] is not None and outputs is None and not error:
        end = max(within[1], start)
    if error:
        status = lifecycle.FAILED
    elif end is not None or outputs is not None:
        status = lifecycle.SUCCEEDED
    else:
        status = lifecycle.RUNNING
    if status != lifecycle.RUNNING and end is None:
        end = start
    piece = SpanPiece(
        parent_span_id=parent if parent != span_id else "",
        name=opt_str(item, "event_name", loc) or event_type,
        kind=event_type.upper(),
        status=status,
        start_time=start,
        end_time=end,
        inputs=dumps(inputs, (*loc, "inputs")) if inputs is not None else "",
        outputs=dumps(outputs, (*loc, "outputs")) if outputs is not None else "",
        error=dumps({"message": error}) if error else "",
        attributes=dumps({k: item[k] for k in _KEPT if item.get(k) is not None}, loc),
    )
    _usage(item, loc, piece)
    payload = {k: v for k, v in item.items() if k != "children"}
    payload.update(event_id=event_id, session_id=execution_id)
    batch.events.append(
        CanonicalEvent(
            id=event_id,
            name=event_type,
            timestamp=start,
            source="honeyhive",
            execution_id=execution_id,
            span_id=span_id,
            outcome=FAILURE if status == lifecycle.FAILED else SUCCESS if status == lifecycle.SUCCEEDED else "",
            payload=dumps(payload, loc),
            span=piece,
        )
    )
    _child_links(item, loc, execution_id, span_id, end or start, batch)
    for i, child in enumerate(opt_list(item, "children", loc) or []):
        child_loc = (*loc, "children", i)
        _adapt(obj(child, child_loc), child_loc, execution_id, span_id, batch, depth + 1, (start, end))
    return event_id


def _child_links(item: dict[str, Any], loc: Loc, execution_id: str, span_id: str, at: datetime, batch: Batch) -> None:
    """`children_ids` say which spans hang under this one. Each becomes a piece giving that child its
    parent, timed at this span's end: later than a child's own start, so it overrides the session default
    a child without `parent_id` gets, and the tree agrees with both parent_id and children_ids."""
    for index, child in enumerate(opt_list(item, "children_ids", loc) or []):
        if not isinstance(child, str) or not child:
            raise InvalidInput((*loc, "children_ids", index), "must be a non-empty string", "string_type")
        if child == span_id:
            continue
        batch.events.append(
            CanonicalEvent(
                id=str(uuid.uuid5(_LINKS, f"{execution_id}\x00{span_id}\x00{child}")),
                name="honeyhive.child_link",
                timestamp=at,
                source="honeyhive",
                execution_id=execution_id,
                span_id=child,
                payload=dumps({"parent_id": span_id, "child_id": child}),
                span=SpanPiece(parent_span_id=span_id),
            )
        )


def _usage(item: dict[str, Any], loc: Loc, piece: SpanPiece) -> None:
    """HoneyHive SDKs put token counts in metadata or metrics (prompt_tokens, completion_tokens, ...)."""
    config = item.get("config") or {}
    model = config.get("model", "") if isinstance(config, dict) else ""
    usage: list[dict[str, Any]] = []
    cost: list[dict[str, Any]] = []
    for key in ("metadata", "metrics"):
        source = item.get(key)
        if isinstance(source, dict):
            usage = usage or normalize_usage(source.get("usage") or source, (*loc, key), str(model or ""))
            if source.get("cost") is not None and not cost:
                cost = normalize_cost(source["cost"], (*loc, key, "cost"))
    apply_usage(piece, usage, cost)


# The HoneyHive SDK's own calls (honeyhive 1.7: `HoneyHiveTracer.init`, `client.events.*`,
# `tracer.enrich_session`): the legacy paths it posts to, each wrapping the event shapes above.


def adapt_start_session(body: Any) -> Batch:
    """`POST /session/start` `{"session": {session_id?, session_name, project, source, inputs, ...}}`: the
    session event that the SDK's traced spans (and later `PUT /events`) hang under."""
    session = obj(obj(body, ()).get("session"), ("session",))
    item = {**session, "event_type": "session"}
    item["session_id"] = opt_str(session, "session_id", ("session",)) or new_id()
    item["event_name"] = opt_str(session, "event_name", ("session",)) or opt_str(session, "session_name", ("session",))
    batch = Batch()
    _adapt(item, ("session",), None, None, batch, 0)
    return batch


def adapt_legacy_event(body: Any) -> Batch:
    """`POST /events` `{"event": {...}}` (the SDK's `client.events.create`)."""
    body = obj(body, ())
    if body.get("event") is None:
        raise InvalidInput(("event",), "field required", "missing")
    try:
        return adapt_create(obj(body["event"], ("event",)))
    except InvalidInput as exc:
        exc.errors = [{**e, "loc": ["event", *e["loc"]]} for e in exc.errors]
        raise


def adapt_batch(body: Any, key: str = "events", event_type: str | None = None) -> tuple[Batch, str | None]:
    """`POST /events/batch` `{"events": [...], "is_single_session", "session_properties"}` (and
    `/events/model/batch` with `model_events`). With a single session, events that name none go into one
    new session, which is returned."""
    body = obj(body, ())
    items = opt_list(body, key, ()) or []
    single = bool(body.get("is_single_session") or body.get("single_session"))
    batch = Batch()
    session_id: str | None = None
    if single:
        properties = opt_obj(body, "session_properties", ()) or opt_obj(body, "session", ()) or {}
        session_id = new_id()
        session = {**properties, "event_type": "session", "session_id": session_id, "inputs": {}}
        session["event_name"] = properties.get("session_name") or "session"
        _adapt(session, ("session_properties",), None, None, batch, 0)
    for index, raw in enumerate(items):
        item = obj(raw, (key, index))
        if event_type:
            item = {**item, "event_type": event_type}
        _adapt(item, (key, index), session_id, None, batch, 0)
    return batch, session_id


_MERGED = ("metadata", "feedback", "metrics", "user_properties", "config")


def adapt_update(body: Any, execution_id: str, span_id: str, current: dict[str, Any], started: datetime) -> Batch:
    """`PUT /events` `{"event_id", metadata, feedback, metrics, outputs, config, user_properties, duration,
    end_time, children_ids}` (`tracer.enrich_session`, `client.events.update`): one more piece for that span.
    The dict fields merge key by key into what the span holds (`current`, its attributes), later wins."""
    body = obj(body, ())
    event_id = req_str_of(body)
    attributes = {k: v for k, v in current.items() if k in _KEPT}
    for key in _MERGED:
        value = opt_obj(body, key, ())
        if value is not None:
            previous = attributes.get(key)
            attributes[key] = {**previous, **value} if isinstance(previous, dict) else value
    children = opt_list(body, "children_ids", ())
    if children is not None:
        attributes["children_ids"] = children
    outputs = opt_obj(body, "outputs", ())
    end = parse_millis(body["end_time"], ("end_time",)) if body.get("end_time") is not None else None
    if body.get("duration") is not None:
        end = end or after(started, body["duration"], ("duration",))
    piece = SpanPiece(
        attributes=dumps(attributes),
        outputs=dumps(outputs, ("outputs",)) if outputs is not None else "",
        end_time=end,
        status=lifecycle.SUCCEEDED if end is not None else "",
    )
    _usage({**body, "config": attributes.get("config")}, (), piece)
    batch = Batch()
    batch.events.append(
        CanonicalEvent(
            id=new_id(),
            name="honeyhive.update",
            timestamp=now(),
            source="honeyhive",
            execution_id=execution_id,
            span_id=span_id,
            payload=dumps({**body, "event_id": event_id}),
            span=piece,
        )
    )
    if children:
        _child_links(body, (), execution_id, span_id, end or now(), batch)
    return batch


def req_str_of(body: dict[str, Any]) -> str:
    event_id = opt_str(body, "event_id", ())
    if not event_id:
        raise InvalidInput(("event_id",), "field required", "missing")
    return event_id
