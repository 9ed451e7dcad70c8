"""The reads of the REST compatibility views (the audit API, Vellum's execution detail): the other view of
the same model as GraphQL, beside graph/, through the same storage functions."""

from __future__ import annotations

from resolvers.records import EventQuery, EventRecord, ExecutionRecord
from resolvers.stores import ClickHouse
from resolvers.trace import Trace
from storage.clickhouse.events import count_events, events_by_ids, grouped_events, list_events
from storage.clickhouse.executions import Rollup, executions_by_ids, rollups
from storage.clickhouse.spans import spans_of_executions


async def event_page(
    ch: ClickHouse, tenant_id: str, query: EventQuery, limit: int, offset: int
) -> tuple[list[EventRecord], int]:
    """One offset page of the matching events and how many match in all."""
    rows = await list_events(ch, tenant_id, query, limit, offset=offset)
    return rows, await count_events(ch, tenant_id, query)


async def audit_event_by_id(ch: ClickHouse, tenant_id: str, event_id: str) -> EventRecord | None:
    """The audit view's event with this id (server/audit_routes.py): the audit format's first, then a GraphQL
    event with an actor that used the same id."""
    found = [r for r in (await events_by_ids(ch, tenant_id, [event_id])).get(event_id, [])
             if r.source == "audit" or r.actor_type]  # fmt: skip
    return next((r for r in found if r.source == "audit"), found[0] if found else None)


async def execution_and_trace(
    ch: ClickHouse, tenant_id: str, execution_id: str
) -> tuple[ExecutionRecord, Trace] | None:
    """An execution with its whole span tree, None when the tenant has no such execution."""
    execution = (await executions_by_ids(ch, tenant_id, [execution_id])).get(execution_id)
    if execution is None:
        return None
    return execution, Trace(await spans_of_executions(ch, tenant_id, [execution_id]))


async def events_of_spans(
    ch: ClickHouse, tenant_id: str, execution_id: str, span_ids: list[str]
) -> dict[tuple[str, ...], list[EventRecord]]:
    """Each span's events, oldest first, keyed by (execution id, span id)."""
    if not span_ids:
        return {}
    return await grouped_events(ch, tenant_id, "span", [(execution_id, s) for s in span_ids], None, True)


async def execution_rollup(ch: ClickHouse, tenant_id: str, execution_id: str) -> Rollup:
    """Usage and cost summed over the execution's spans."""
    return (await rollups(ch, tenant_id, [execution_id]))[execution_id]
