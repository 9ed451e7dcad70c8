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
    item: dict[str, Any], loc: Loc, session_id: str | None, parent_id: str | None, batch: Batch, depth: int
) -> str:
    if depth > _MAX_DEPTH:
        raise InvalidInput(loc, f"children nest deeper than {_MAX_DEPTH} levels")
    event_type = opt_str(item, "event_type", loc) or "chain"
    is_session = event_type == "session"
    session = session_id or opt_str(item, "session_id", loc)
    event_id = opt_str(item, "event_id", loc) or (session if is_session and session else new_id())
    execution_id = session or event_id
    span_id = execution_id if is_session else event_id
    parent = opt_str(item, "parent_id", loc) or parent_id or ("" if is_session or not session else session)

    start = parse_millis(item["start_time"], (*loc, "start_time")) if item.get("start_time") is not None else now()
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
        _adapt(obj(child, (*loc, "children", i)), (*loc, "children", i), execution_id, span_id, batch, depth + 1)
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
