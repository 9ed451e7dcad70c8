"""The reads behind the streaming export (`GET /api/v1/export`): what a filter matches, page by page.

Executions and spans come from one walk over the tenant's executions (storage/clickhouse/export.py):
each page keeps the executions the filter matches (the same summaries and filter as the `executions`
query) and reads their merged spans (the same merge as every span read). Events come from a walk over the
event log with the `events` query's filter. One page is in memory at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.events import EventQuery, EventRecord
from storage.clickhouse.executions import (
    ExecutionQuery,
    ExecutionRecord,
    Rollup,
    execution_actors,
    executions_among,
    rollups,
)
from storage.clickhouse.export import event_pages, execution_id_pages
from storage.clickhouse.spans import SpanRecord, spans_of_executions

# Rows (events, span pieces) a page reads: ~10-30 MB of records in memory at a time.
PAGE_ROWS = 10_000


@dataclass(slots=True)
class ExecutionBatch:
    """One page of matching executions, in id order, with what the export asked for of each."""

    ids: list[str]
    executions: list[ExecutionRecord] = field(default_factory=list)  # when executions are exported
    rollups: dict[str, Rollup] = field(default_factory=dict)
    actors: dict[str, tuple[str, str]] = field(default_factory=dict)
    spans: dict[str, list[SpanRecord]] = field(default_factory=dict)  # execution id -> spans in start order


async def _one_page(ids: list[str]) -> AsyncIterator[list[str]]:
    yield ids


async def execution_batches(
    ch: ClickHouse,
    tenant_id: str,
    query: ExecutionQuery,
    with_executions: bool,
    with_spans: bool,
) -> AsyncIterator[ExecutionBatch]:
    """The executions matching `query` (and/or their spans), a page at a time."""
    # a session (execution) id names its one execution: no walk
    pages = _one_page([query.session_id]) if query.session_id else execution_id_pages(ch, tenant_id, PAGE_ROWS)
    filtered = query != ExecutionQuery()
    async for ids in pages:
        batch = ExecutionBatch(ids)
        if with_executions or filtered:
            batch.executions = await executions_among(ch, tenant_id, query, ids)
            batch.ids = [e.id for e in batch.executions]
        if not batch.ids:
            continue
        if with_executions:
            batch.rollups = await rollups(ch, tenant_id, batch.ids)
            batch.actors = await execution_actors(ch, tenant_id, batch.ids)
        if with_spans:
            for span in await spans_of_executions(ch, tenant_id, batch.ids):
                batch.spans.setdefault(span.execution_id, []).append(span)
        yield batch


def event_batches(ch: ClickHouse, tenant_id: str, query: EventQuery) -> AsyncIterator[list[EventRecord]]:
    """The events matching `query`, in id order, a page at a time."""
    return event_pages(ch, tenant_id, query, PAGE_ROWS)
