"""Deletions, in an order a crash cannot break: record the intent in Postgres (pending), delete from
ClickHouse, clean what was derived from the deleted rows (the live message log, the actor and resource
registries), mark the record done.

Every step is idempotent and the record holds what a re-run needs (the filter, and the batch of executions
being deleted), so a server that starts with pending deletions re-applies them (`resume_pending`) before it
serves: the delete is not lost, and nothing it did not cover is touched. Counts are taken before the rows go
and stored with the intent, so a re-run does not count twice.

Filters are plain JSON (what the record shows): for events `from`, `to` (ISO-8601), `names`, `actorType`,
`actorId`, `resourceType`, `resourceId`, `executionId`, `correlationId`; for executions either `ids`, or
`from`, `to` (start time), `name`, `statuses`, `actorType`, `actorId`, `resourceType`, `resourceId`,
`sessionId`. `all: true` stands for "no condition": an empty filter is refused before it gets here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from storage.clickhouse import deletes as ch_deletes
from storage.clickhouse.client import ClickHouse
from storage.clickhouse.deletes import EventSelection
from storage.clickhouse.executions import ExecutionQuery
from storage.postgres import deletions, registry
from storage.postgres.connections import PgPool
from storage.postgres.deletions import DeletionRecord

log = logging.getLogger(__name__)

BATCH = 1000  # executions deleted per round of a deletion by filter
REGISTRY_PAGE = 5000

# Removes deleted events from the live message log (ingest/live_scrub.py), given the tenant id.
Scrub = Callable[[str], Awaitable[object]]

EVENT_CONDITIONS = ("from", "to", "names", "actorType", "actorId", "resourceType", "resourceId", "executionId",
                    "correlationId")  # fmt: skip
EXECUTION_CONDITIONS = ("from", "to", "name", "statuses", "actorType", "actorId", "resourceType", "resourceId",
                        "sessionId")  # fmt: skip


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def event_selection(f: dict[str, Any]) -> EventSelection:
    return EventSelection(
        since=_time(f.get("from")),
        until=_time(f.get("to")),
        names=tuple(f.get("names") or ()),
        actor_type=f.get("actorType"),
        actor_id=f.get("actorId"),
        resource_type=f.get("resourceType"),
        resource_id=f.get("resourceId"),
        execution_id=f.get("executionId"),
        correlation_id=f.get("correlationId"),
    )


def execution_query(f: dict[str, Any]) -> tuple[ExecutionQuery, tuple[str | None, str | None]]:
    query = ExecutionQuery(
        statuses=tuple(f.get("statuses") or ()),
        name=f.get("name"),
        actor_type=f.get("actorType"),
        actor_id=f.get("actorId"),
        session_id=f.get("sessionId"),
        since=_time(f.get("from")),
        until=_time(f.get("to")),
    )
    return query, (f.get("resourceType"), f.get("resourceId"))


async def delete(
    ch: ClickHouse, pg: PgPool, scrub: Scrub, tenant_id: str, key_id: str, target: str, f: dict[str, Any]
) -> DeletionRecord:
    """Delete the tenant's executions or events the filter names; returns the finished record."""
    events = executions = 0
    if target == "events":
        events = await ch_deletes.count_events(ch, tenant_id, event_selection(f))
    elif "ids" in f:
        events = await ch_deletes.count_execution_events(ch, tenant_id, f["ids"])
        executions = len(await ch_deletes.existing_executions(ch, tenant_id, f["ids"]))
    deletion_id = await deletions.record_pending(pg, tenant_id, key_id, target, f, events, executions)
    return await _run(ch, pg, scrub, deletion_id, tenant_id, target, f)


async def resume_pending(ch: ClickHouse, pg: PgPool, scrub: Scrub) -> list[DeletionRecord]:
    """Finish every deletion a stopped server left pending; returns them, done."""
    finished = []
    for record in await deletions.pending(pg):
        log.warning("re-applying deletion %s (%s of tenant %s), left pending by a stop", record.id, record.target,
                    record.tenant)  # fmt: skip
        try:
            if record.execution_ids:  # the batch a crash interrupted: counted already, delete it again
                await ch_deletes.delete_executions(ch, record.tenant_id, record.execution_ids)
                await deletions.end_batch(pg, record.id)
            finished.append(await _run(ch, pg, scrub, record.id, record.tenant_id, record.target, record.filter))
        except Exception:  # one deletion the store refuses must not keep the server from starting: it stays
            # pending (and is tried again at the next start, or when asked again), and the log says why
            log.exception("deletion %s could not be re-applied; it stays pending", record.id)
    return finished


async def _run(
    ch: ClickHouse, pg: PgPool, scrub: Scrub, deletion_id: int, tenant_id: str, target: str, f: dict[str, Any]
) -> DeletionRecord:
    if target == "events":
        await ch_deletes.delete_events(ch, tenant_id, event_selection(f))
    elif "ids" in f:
        await ch_deletes.delete_executions(ch, tenant_id, f["ids"])
    else:
        await _delete_matching_executions(ch, pg, deletion_id, tenant_id, f)
    await scrub(tenant_id)
    await _forget_unseen_entities(ch, pg, tenant_id)
    return await deletions.mark_done(pg, deletion_id)


async def _delete_matching_executions(
    ch: ClickHouse, pg: PgPool, deletion_id: int, tenant_id: str, f: dict[str, Any]
) -> None:
    """In batches: name the batch in the record (with its counts), delete it, clear the name. A filter over
    events (actor, resource) stops matching an execution once its events are gone, so the named batch is
    what a crash between its two tables leaves to redo."""
    query, resource = execution_query(f)
    done: set[str] = set()
    while True:
        batch = await ch_deletes.execution_ids(ch, tenant_id, query, resource, BATCH)
        fresh = [i for i in batch if i not in done]
        if not fresh:  # none left, or only ones just deleted that new pieces brought back: deleted again below
            if batch:
                await ch_deletes.delete_executions(ch, tenant_id, batch)
            return
        events = await ch_deletes.count_execution_events(ch, tenant_id, fresh)
        await deletions.start_batch(pg, deletion_id, batch, events, len(fresh))
        await ch_deletes.delete_executions(ch, tenant_id, batch)
        await deletions.end_batch(pg, deletion_id)
        done.update(batch)


async def _forget_unseen_entities(ch: ClickHouse, pg: PgPool, tenant_id: str) -> None:
    """Actors and resources none of whose events are left leave the registries: `actor(type, id)` and
    `resource(type, id)` must not name someone whose data was deleted."""
    for name in ("actors", "resources"):
        keys = await registry.registry_keys(pg, name, tenant_id)
        for start in range(0, len(keys), REGISTRY_PAGE):
            page = keys[start : start + REGISTRY_PAGE]
            present = await ch_deletes.entities_with_events(ch, tenant_id, name, page)
            await registry.forget(pg, name, tenant_id, [k for k in page if k not in present])


async def list_deletions(pg: PgPool, tenant_id: str, limit: int) -> list[DeletionRecord]:
    return await deletions.list_deletions(pg, tenant_id, limit)


__all__ = ["DeletionRecord", "Scrub", "delete", "list_deletions", "resume_pending"]
