"""The audit read API (`GET /api/v1/events…`) in the audit document's shapes: a view of the audit format's
events and of the GraphQL events that name an actor. The trace formats' span events name no actor or
resource, so they are not in it: read them through GraphQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query, Request

from graph.scalars import format_datetime
from resolvers import aggregates
from resolvers.records import EventQuery, EventRecord
from resolvers.rest_reads import audit_event_by_id, event_page
from server.request_body import app_state, principal
from server.responses import JSON

router = APIRouter(prefix="/api/v1/events", tags=["audit"])

Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=2**63 - 1)]  # larger offsets cannot reach ClickHouse or JSON
From = Annotated[datetime | None, Query(alias="from")]
To = Annotated[datetime | None, Query()]


def audit_event(record: EventRecord, tenant_id: str) -> dict[str, Any]:
    return {
        "actorId": record.actor_id or None,
        "actorType": record.actor_type or None,
        "causationId": record.causation_id or None,
        "correlationId": record.correlation_id or None,
        "eventType": record.name,
        "id": record.id,
        "occurredAt": format_datetime(record.timestamp),
        "payload": orjson.loads(record.payload),
        "resourceId": record.resource_id or None,
        "resourceType": record.resource_type or None,
        "tenantId": tenant_id,
    }


async def _page(request: Request, query: EventQuery, limit: int, offset: int) -> JSON:
    ch, tenant_id = app_state(request).ch, principal(request).tenant_id
    rows, total = await event_page(ch, tenant_id, replace(query, audit_view=True), limit, offset)
    return JSON(
        {
            "events": [audit_event(r, tenant_id) for r in rows],
            "hasNext": offset + len(rows) < total,
            "limit": limit,
            "offset": offset,
            "total": total,
        }
    )


@router.get("")
async def list_audit_events(
    request: Request,
    event_type: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    from_: From = None,
    to: To = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> JSON:
    """Events newest first; `total` counts every match, `hasNext` says whether a later page has more."""
    query = EventQuery(
        names=(event_type,) if event_type else (),
        resource_type=resource_type,
        resource_id=resource_id,
        since=from_,
        until=to,
    )
    return await _page(request, query, limit, offset)


@router.get("/aggregate")
async def aggregate_events(request: Request, from_: From = None, to: To = None) -> JSON:
    found = await aggregates.event_aggregates(app_state(request).ch, principal(request).tenant_id, from_, to, True)

    def counts(pairs: list[tuple[str, int]]) -> list[dict[str, Any]]:
        return [{"count": c, "key": k} for k, c in pairs]

    return JSON(
        {
            "byActorType": counts(found.by_actor_type),
            "byEventType": counts(found.by_event_type),
            "byResourceType": counts(found.by_resource_type),
            "total": found.total,
        }
    )


@router.get("/correlation/{correlation_id}")
async def events_by_correlation(request: Request, correlation_id: str, limit: Limit = 100, offset: Offset = 0) -> JSON:
    """Events of one correlation, oldest first: the story of one flow."""
    return await _page(request, EventQuery(correlation_id=correlation_id, ascending=True), limit, offset)


@router.get("/resource/{resource_type}/{resource_id}")
async def events_by_resource(
    request: Request, resource_type: str, resource_id: str, limit: Limit = 100, offset: Offset = 0
) -> JSON:
    return await _page(request, EventQuery(resource_type=resource_type, resource_id=resource_id), limit, offset)


@router.get("/stats/by-actor")
async def stats_by_actor(request: Request, from_: From = None, to: To = None) -> JSON:
    """Per actor: successes, failures (see README, "How events count for actor stats") and total."""
    found = await aggregates.actor_stats(app_state(request).ch, principal(request).tenant_id, from_, to)
    actors = [
        {"actorId": r.actor_id, "actorType": r.actor_type, "failures": r.failures, "successes": r.successes,
         "total": r.total}
        for r in found
    ]  # fmt: skip
    return JSON({"actors": actors})


@router.get("/{event_id}")
async def get_event(request: Request, event_id: str) -> JSON:
    tenant_id = principal(request).tenant_id
    found = await audit_event_by_id(app_state(request).ch, tenant_id, event_id)
    if found is None:
        raise HTTPException(status_code=404, detail="Not Found")
    return JSON(audit_event(found, tenant_id))
