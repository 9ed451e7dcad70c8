"""The HoneyHive SDK's own paths (honeyhive 1.7), so `HoneyHiveTracer.init(server_url=...)` works unchanged:
`POST /session/start`, `POST /events`, `PUT /events`, `POST /events/batch`, `POST /events/model`,
`POST /events/model/batch`, and its OTLP export at `POST /opentelemetry/v1/traces`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from ingest import honeyhive
from ingest.records import Batch
from ingest.stored import stored_span
from ingest.validation import InvalidInput
from server.annotation_routes import write_with_feedback
from server.otlp_route import export_traces
from server.request_body import app_state, json_body, principal, reraise_for_rest
from server.request_schemas import (
    HoneyHiveBatch,
    HoneyHiveLegacyEvent,
    HoneyHiveModelEvent,
    HoneyHiveSessionStart,
    HoneyHiveUpdate,
    OtlpTracesRequest,
    openapi_body,
)
from server.responses import JSON

router = APIRouter(tags=["honeyhive"])


async def _write(request: Request, adapt: Callable[[], Any]) -> Any:
    try:
        result = adapt()
    except InvalidInput as exc:
        raise reraise_for_rest(exc, True) from None
    batch: Batch = result[0] if isinstance(result, tuple) else result
    await write_with_feedback(request, batch)  # its `feedback` becomes annotations too
    return result


def _ids(request: Request, project: Any) -> dict[str, str]:
    """HoneyHive replies name the org, workspace and project; here the tenant is all of the first two."""
    tenant = principal(request).tenant_id
    return {"org_id": tenant, "workspace_id": tenant, "project_id": str(project or "default")}


@router.post("/session/start", openapi_extra=openapi_body(HoneyHiveSessionStart, "a new HoneyHive session"))
async def start_session(request: Request) -> JSON:
    """A new session (the execution) → the session event, as `PostSessionStartResponse`."""
    body = await json_body(request)
    batch: Batch = await _write(request, lambda: honeyhive.adapt_start_session(body))
    event = batch.events[0]
    session = body.get("session") if isinstance(body, dict) else {}
    return JSON({**_ids(request, (session or {}).get("project")), "event_id": event.id,
                 "session_id": event.execution_id, "event_type": "session", "success": True})  # fmt: skip


@router.post("/events", openapi_extra=openapi_body(HoneyHiveLegacyEvent, "one HoneyHive event"))
async def create_event(request: Request) -> JSON:
    body = await json_body(request)
    batch: Batch = await _write(request, lambda: honeyhive.adapt_legacy_event(body))
    return JSON({"event_id": batch.events[0].id, "success": True})


@router.post("/events/model", openapi_extra=openapi_body(HoneyHiveModelEvent, "one model event"))
async def create_model_event(request: Request) -> JSON:
    body = await json_body(request)
    event = body.get("model_event") if isinstance(body, dict) else None
    wrapped = {"event": {**event, "event_type": "model"}} if isinstance(event, dict) else {}
    batch: Batch = await _write(request, lambda: honeyhive.adapt_legacy_event(wrapped))
    return JSON({"event_id": batch.events[0].id, "success": True})


async def _batch(request: Request, key: str, event_type: str | None) -> JSON:
    body = await json_body(request)
    batch, session_id = await _write(request, lambda: honeyhive.adapt_batch(body, key, event_type))
    top = [e.id for e in batch.events if e.name != "honeyhive.child_link" and e.span_id != session_id]
    return JSON({"event_ids": top, "session_id": session_id, "success": True})


@router.post("/events/batch", openapi_extra=openapi_body(HoneyHiveBatch, "HoneyHive events"))
async def create_event_batch(request: Request) -> JSON:
    return await _batch(request, "events", None)


@router.post("/events/model/batch", openapi_extra=openapi_body(HoneyHiveBatch, "model events"))
async def create_model_event_batch(request: Request) -> JSON:
    return await _batch(request, "model_events", "model")


@router.put("/events", openapi_extra=openapi_body(HoneyHiveUpdate, "fields merged into a stored event"))
async def update_event(request: Request) -> JSON:
    """Enrichment of an event or session already stored: merged into its span, later values winning."""
    body = await json_body(request)
    try:
        event_id = honeyhive.req_str_of(body if isinstance(body, dict) else {})
    except InvalidInput as exc:
        raise reraise_for_rest(exc, True) from None
    span = await stored_span(app_state(request).ch, principal(request).tenant_id, event_id)
    if span is None:
        raise HTTPException(status_code=404, detail=f"no event {event_id!r}")
    current = orjson.loads(span.attributes) if span.attributes else {}
    current = current if isinstance(current, dict) else {}
    await _write(
        request, lambda: honeyhive.adapt_update(body, span.execution_id, span.id, current, span.start_time)
    )
    return JSON({"event_id": event_id, "success": True})


@router.post(
    "/opentelemetry/v1/traces",
    tags=["otlp"],
    openapi_extra=openapi_body(OtlpTracesRequest, "OTLP/JSON spans as the HoneyHive tracer exports them"),
)
async def export_honeyhive_traces(request: Request) -> Response:
    """Where the HoneyHive tracer exports its spans (OTLP/HTTP JSON with `honeyhive_*` attributes)."""
    return await export_traces(request)
