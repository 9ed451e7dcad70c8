"""The compatible write paths: Vellum monitoring events, HoneyHive events, audit events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request

from ingest import audit, honeyhive, vellum
from ingest.records import Batch
from ingest.validation import InvalidInput
from server.annotation_routes import write_with_feedback
from server.errors import MalformedJSON
from server.request_body import as_items, json_body, reraise_for_rest
from server.request_schemas import AuditEventInput, HoneyHiveEvent, HoneyHiveSessionEvent, VellumEvent, openapi_body
from server.responses import JSON

router = APIRouter()


async def _ingest(request: Request, adapt: Callable[[], Batch], single: bool) -> Batch:
    try:
        batch = adapt()
    except InvalidInput as exc:
        raise reraise_for_rest(exc, single) from None
    await write_with_feedback(request, batch)  # HoneyHive `feedback` becomes annotations too
    return batch


@router.post(
    "/monitoring/v1/events",
    tags=["vellum"],
    openapi_extra=openapi_body(VellumEvent | list[VellumEvent], "one Vellum workflow event or a list of them"),
)
async def create_monitoring_event(request: Request) -> JSON:
    """One Vellum workflow event or a list of them → `{"count", "success"}`. Vellum's document lists 400
    (not 422) for a bad request: every refusal of a body here is 400 with `{"detail": [{loc, msg, type}]}`."""
    try:
        items, single = as_items(request, await json_body(request))
        batch = await _ingest(request, lambda: vellum.adapt(items), single)
    except InvalidInput as exc:
        return JSON({"detail": exc.errors}, status_code=400)
    except MalformedJSON as exc:
        detail = [{"loc": ["body"], "msg": f"malformed JSON body: {exc}", "type": "json_invalid"}]
        return JSON({"detail": detail}, status_code=400)
    return JSON({"count": len(batch.events), "success": True})


@router.post("/v1/events", tags=["honeyhive"], openapi_extra=openapi_body(HoneyHiveEvent, "one HoneyHive event"))
async def create_event(request: Request) -> JSON:
    """A HoneyHive event (model, tool, chain or session) → `{"event_id", "success"}`."""
    body: Any = await json_body(request)
    batch = await _ingest(request, lambda: honeyhive.adapt_create(body), True)
    return JSON({"event_id": batch.events[0].id, "success": True})


@router.post(
    "/session/{session_id}/event",
    tags=["honeyhive"],
    openapi_extra=openapi_body(HoneyHiveSessionEvent, "one HoneyHive event with its nested children"),
)
async def log_session_event(session_id: str, request: Request) -> JSON:
    """A HoneyHive event logged into a session (with nested children) → `{"event_id", "success"}`."""
    body: Any = await json_body(request)
    batch = await _ingest(request, lambda: honeyhive.adapt_session_event(session_id, body), True)
    return JSON({"event_id": batch.events[0].id, "success": True})


@router.post(
    "/api/v1/events",
    tags=["audit"],
    openapi_extra=openapi_body(AuditEventInput | list[AuditEventInput], "one audit event or a list of them"),
)
async def write_audit_events(request: Request) -> JSON:
    """One audit event or a list, shaped like the audit read API's events → `{count, success, eventIds}`."""
    items, single = as_items(request, await json_body(request))
    batch = await _ingest(request, lambda: audit.adapt(items), single)
    return JSON({"count": len(batch.events), "success": True, "eventIds": batch.ids})
