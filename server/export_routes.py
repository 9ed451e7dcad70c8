"""`GET /api/v1/export`: the caller tenant's executions, spans and events for a filter, streamed.

NDJSON (one object a line, with a `type` field and the GraphQL types' field names) or, for spans, OTLP/JSON
(one ExportTraceServiceRequest a line, re-importable through `POST /v1/traces`). The response streams page
by page as the client reads it (resolvers/export.py): memory stays flat however much is exported. The
filter's parameters are named as in the audit API (`from`, `to`, `resource_type`, ...); one that does not
apply to a kind asked for, or that is unknown, is refused with 422 before anything is read, so a typo
never exports everything. The first page is read before the response starts, so a store that is down
answers 503; a failure after that ends the stream with a last line `{"type": "error", "detail": ...}`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import StreamingResponse

from graph.enums import SpanStatus
from graph.request_id import request_id
from resolvers.export import event_batches, execution_batches
from resolvers.records import EventQuery, ExecutionQuery, SpanRecord
from server.export_otlp import otlp_document
from server.export_rows import event_line, execution_line, span_line
from server.request_body import app_state, principal

router = APIRouter(prefix="/api/v1", tags=["export"])
log = logging.getLogger(__name__)

NDJSON = "application/x-ndjson"
KINDS = ("executions", "spans", "events")  # and the order they are written in
CHUNK_BYTES = 64 * 1024  # what is handed to the server at a time: sent early, and little held per chunk

# Which kinds each filter parameter applies to (the others are refused for a kind they do not fit).
APPLIES: dict[str, frozenset[str]] = {
    **{p: frozenset(KINDS) for p in ("from", "to", "name", "actor_type", "actor_id", "execution_id", "session_id")},
    "status": frozenset({"executions", "spans"}),
    **{p: frozenset({"events"}) for p in ("resource_type", "resource_id", "correlation_id")},
}
PARAMETERS = frozenset({*APPLIES, "kind", "format", "spans_per_line"})


class ExportFormat(Enum):
    NDJSON = "ndjson"
    OTLP = "otlp"


def _invalid(parameter: str, message: str, kind: str = "value_error") -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", parameter), "msg": message, "type": kind}])


def _kinds(values: list[str], fmt: ExportFormat) -> list[str]:
    """`kind` may repeat or list kinds with commas; `all` (the default; OTLP: spans) is every kind."""
    asked = {v.strip().lower() for value in values for v in value.split(",") if v.strip()}
    if not asked:
        asked = {"spans"} if fmt is ExportFormat.OTLP else {"all"}
    unknown = sorted(asked - {*KINDS, "all"})
    if unknown:
        raise _invalid("kind", f"unknown kind {unknown[0]!r}; expected executions, spans, events or all")
    kinds = [k for k in KINDS if k in asked or "all" in asked]
    if fmt is ExportFormat.OTLP and kinds != ["spans"]:
        raise _invalid("kind", "format=otlp exports spans only: leave kind out or say kind=spans")
    return kinds


def _check_parameters(request: Request, kinds: list[str], fmt: ExportFormat) -> None:
    given = list(dict.fromkeys(request.query_params.keys()))
    for parameter in given:
        if parameter not in PARAMETERS:
            known = ", ".join(sorted(PARAMETERS))
            raise _invalid(parameter, f"unknown parameter {parameter!r}; expected one of: {known}", "extra_forbidden")
        misfits = [k for k in kinds if k not in APPLIES.get(parameter, KINDS)]
        if misfits:
            fits = " or ".join(sorted(APPLIES[parameter]))
            raise _invalid(parameter, f"{parameter} filters {fits} only, not {misfits[0]}: choose kind accordingly")
    if "spans_per_line" in given and fmt is not ExportFormat.OTLP:
        raise _invalid("spans_per_line", "spans_per_line applies to format=otlp only")


async def _chunks(lines: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Lines joined into chunks of about CHUNK_BYTES (a line is never split; the last chunk as it comes)."""
    pending: list[bytes] = []
    size = 0
    async for line in lines:
        pending.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield b"".join(pending)
            pending.clear()
            size = 0
    if pending:
        yield b"".join(pending)


Kinds = Annotated[
    list[str] | None, Query(description="executions, spans, events or all (the default); repeat or comma-separate")
]
From = Annotated[datetime | None, Query(alias="from", description="events: timestamp ≥; executions, spans: start ≥")]
To = Annotated[datetime | None, Query(description="events: timestamp <; executions, spans: execution start <")]
Name = Annotated[str | None, Query(description="events: the event name (type); executions, spans: the execution's")]
Statuses = Annotated[list[SpanStatus] | None, Query(description="executions, spans: the execution's status, any of")]
EventsOnly = Annotated[str | None, Query(description="events only")]
ExecutionId = Annotated[str | None, Query(description="one execution (trace): itself, its spans, its events")]
SessionId = Annotated[str | None, Query(description="the same as execution_id (a session is an execution)")]
SpansPerLine = Annotated[int, Query(ge=1, le=1000, description="format=otlp: spans per line (document)")]


@router.get("/export", response_class=StreamingResponse)
async def export(
    request: Request,
    kind: Kinds = None,
    format: ExportFormat = ExportFormat.NDJSON,
    from_: From = None,
    to: To = None,
    name: Name = None,
    status: Statuses = None,
    actor_type: str | None = None,
    actor_id: str | None = None,
    resource_type: EventsOnly = None,
    resource_id: EventsOnly = None,
    correlation_id: EventsOnly = None,
    execution_id: ExecutionId = None,
    session_id: SessionId = None,
    spans_per_line: SpansPerLine = 100,
) -> StreamingResponse:
    """Executions, spans and events of the caller's tenant matching the filter, streamed (see README, Export)."""
    kinds = _kinds(kind or [], format)
    _check_parameters(request, kinds, format)
    if execution_id and session_id and execution_id != session_id:
        raise _invalid("session_id", "session_id names the same thing as execution_id: give one, or the same value")
    execution, name = execution_id or session_id, name or None
    events = EventQuery(
        names=(name,) if name else (), actor_type=actor_type, actor_id=actor_id, resource_type=resource_type,
        resource_id=resource_id, correlation_id=correlation_id, execution_id=execution, since=from_, until=to,
        ascending=True,
    )  # fmt: skip
    executions = ExecutionQuery(
        statuses=tuple(s.value for s in status or ()), name=name, actor_type=actor_type, actor_id=actor_id,
        session_id=execution, since=from_, until=to,
    )  # fmt: skip
    ch, tenant_id = app_state(request).ch, principal(request).tenant_id

    with_executions, with_spans = "executions" in kinds, "spans" in kinds

    async def ndjson() -> AsyncIterator[bytes]:
        if with_executions or with_spans:
            # each execution, then its spans
            async for batch in execution_batches(ch, tenant_id, executions, with_executions, with_spans):
                records = {r.id: r for r in batch.executions} if with_executions else {}
                for key in batch.ids:
                    if key in records:
                        yield execution_line(records[key], batch)
                    for span in batch.spans.get(key, ()):
                        yield span_line(span)
        if "events" in kinds:
            async for page in event_batches(ch, tenant_id, events):
                for event in page:
                    yield event_line(event)

    async def otlp() -> AsyncIterator[bytes]:
        pending: list[SpanRecord] = []
        async for batch in execution_batches(ch, tenant_id, executions, False, True):
            for key in batch.ids:
                for span in batch.spans.get(key, ()):
                    pending.append(span)
                    if len(pending) >= spans_per_line:
                        yield otlp_document(pending)
                        pending = []
        if pending:
            yield otlp_document(pending)

    body = _chunks(otlp() if format is ExportFormat.OTLP else ndjson())
    first = await anext(body, b"")  # a store that is down answers 503 now, not a broken stream later
    extension = "otlp.ndjson" if format is ExportFormat.OTLP else "ndjson"
    headers = {"Content-Disposition": f'attachment; filename="tracehouse-export.{extension}"'}
    return StreamingResponse(_then(first, body), media_type=NDJSON, headers=headers)


async def _then(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    try:
        async for chunk in rest:
            yield chunk
    except Exception as exc:  # the status line is sent: the stream's last line says it is incomplete
        rid = request_id.get()
        log.error("export failed after the response started", exc_info=exc)
        yield error_line(f"the export stopped early ({type(exc).__name__}); quote request id {rid} when reporting it")


def error_line(detail: str) -> bytes:
    body: dict[str, Any] = {"type": "error", "detail": detail}
    return orjson.dumps(body) + b"\n"
