"""Audit events (`POST /api/v1/events`), shaped like the objects `GET /api/v1/events` returns."""

from __future__ import annotations

from typing import Any

from ingest.outcome import outcome_of
from ingest.records import Batch, CanonicalEvent
from ingest.validation import dumps, new_id, now, obj, opt_str, parse_time, registry_str, req_str


def adapt(items: list[Any]) -> Batch:
    batch = Batch()
    received = now()
    for index, raw in enumerate(items):
        loc: tuple[Any, ...] = (index,)
        item = obj(raw, loc)
        event_type = req_str(item, "eventType", loc)
        ts = parse_time(item["occurredAt"], (*loc, "occurredAt")) if item.get("occurredAt") else received
        payload = item.get("payload")
        batch.events.append(
            CanonicalEvent(
                id=opt_str(item, "id", loc) or new_id(),
                name=event_type,
                timestamp=ts,
                source="audit",
                actor_type=registry_str(item, "actorType", loc),
                actor_id=registry_str(item, "actorId", loc),
                resource_type=registry_str(item, "resourceType", loc),
                resource_id=registry_str(item, "resourceId", loc),
                correlation_id=opt_str(item, "correlationId", loc),
                causation_id=opt_str(item, "causationId", loc),
                outcome=outcome_of(event_type, payload),
                payload=dumps(payload if payload is not None else {}, (*loc, "payload")),
            )
        )
    return batch
