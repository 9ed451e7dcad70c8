"""What each REST write path accepts, as OpenAPI request bodies: for generated clients, for /docs, and
for fuzzers that build bodies from the schema.

The routes read their bodies raw (a thousand events parsed into pydantic models would cost most of a bulk
request) and the adapters in ingest/ validate them, naming the field of every error; these models only
describe that shape. Nested objects stay open (`dict`), as the adapters keep what they do not interpret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class VellumEvent(_Open):
    """A Vellum workflow/node lifecycle event (`node.execution.initiated`, `workflow.execution.fulfilled` …)."""

    name: str
    trace_id: str
    span_id: str
    id: str | None = None
    timestamp: datetime | None = None
    body: dict[str, Any] | None = None
    parent: dict[str, Any] | None = None


class HoneyHiveEvent(_Open):
    """A complete HoneyHive event: a model, tool, chain or session span."""

    event_type: str
    inputs: dict[str, Any]
    event_name: str | None = None
    event_id: str | None = None
    session_id: str | None = None
    parent_id: str | None = None
    project: str | None = None
    source: str | None = None
    config: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    error: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    duration: float | None = None
    metadata: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    feedback: dict[str, Any] | None = None
    children: list[dict[str, Any]] | None = None


class HoneyHiveSessionEvent(HoneyHiveEvent):
    """`POST /session/{session_id}/event`: the path names the session; nested `children` are events too."""

    event_type: str | None = None  # type: ignore[assignment]  # optional here, unlike POST /v1/events
    inputs: dict[str, Any] | None = None  # type: ignore[assignment]


class HoneyHiveSessionStart(_Open):
    """`POST /session/start` (the HoneyHive SDK's `sessions.start`): `{"session": {...}}`."""

    session: dict[str, Any]


class HoneyHiveLegacyEvent(_Open):
    """`POST /events` (the SDK's `events.create`): `{"event": {...}}` with the fields of `POST /v1/events`."""

    event: HoneyHiveEvent


class HoneyHiveModelEvent(_Open):
    """`POST /events/model`: `{"model_event": {...}}`."""

    model_event: dict[str, Any]


class HoneyHiveBatch(_Open):
    """`POST /events/batch` (`events`) and `/events/model/batch` (`model_events`), optionally one session."""

    events: list[dict[str, Any]] | None = None
    model_events: list[dict[str, Any]] | None = None
    is_single_session: bool | None = None
    session_properties: dict[str, Any] | None = None


class HoneyHiveUpdate(_Open):
    """`PUT /events` (`events.update`, `enrich_span`, `enrich_session`): merged into the stored event."""

    event_id: str
    metadata: dict[str, Any] | None = None
    feedback: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    user_properties: dict[str, Any] | None = None
    duration: float | None = None


class HoneyHiveExportFilter(_Open):
    field: str
    operator: str = "is"
    value: str
    type: str | None = None


class HoneyHiveExport(_Open):
    """`POST /v1/events/export` (the SDK's `events.export`, `events.list`, `get_by_session_id`)."""

    filters: list[HoneyHiveExportFilter] | None = None
    dateRange: dict[str, str] | None = None
    projections: list[str] | None = None
    limit: int | None = None
    page: int | None = None
    project: str | None = None


class AuditEventInput(_Open):
    """An audit event, shaped like the ones `GET /api/v1/events` returns."""

    eventType: str
    id: str | None = None
    occurredAt: datetime | None = None
    actorType: str | None = None
    actorId: str | None = None
    resourceType: str | None = None
    resourceId: str | None = None
    correlationId: str | None = None
    causationId: str | None = None
    payload: Any = None


class OtlpTracesRequest(_Open):
    """`ExportTraceServiceRequest` in OTLP/JSON (protobuf bodies are described by the OTLP specification)."""

    resourceSpans: list[dict[str, Any]]


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """The schema with every `$ref` to a local definition replaced by the definition itself (the route's
    body must stand alone: FastAPI does not add these models to the document's components)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def openapi_body(
    shape: Any, description: str, content_types: tuple[str, ...] = ("application/json",)
) -> dict[str, Any]:
    """`openapi_extra` for a route whose JSON body has `shape` (a model, a list of one, or a union)."""
    schema = TypeAdapter(shape).json_schema()
    inlined = _inline(schema, schema.get("$defs", {}))
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {content_type: {"schema": inlined} for content_type in content_types},
        }
    }
