"""The reads behind the streaming export (`GET /api/v1/export`): what a filter matches, page by page.

Executions and spans come from one walk over the tenant's executions (storage/clickhouse/export.py):
each page keeps the executions the filter matches (the same summaries and filter as the `executions`
query) and reads their merged spans (the same merge as every span read). Events come from a walk over the
event log with the `events` query's filter. One page is in memory at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TypeVar

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

# Rows (events, span pieces) a page reads: ~10-30 MB of records in memory at a time (two pages: ahead()).
PAGE_ROWS = 10_000
T = TypeVar("T")


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


async def ahead(pages: AsyncIterator[T]) -> AsyncIterator[T]:
    """`pages`, reading the next one while the caller sends the current one: the store (off the event loop)
    and the encoding (on it) overlap, with at most two pages in memory."""
    pending = asyncio.ensure_future(anext(pages, None))
    try:
        while (page := await pending) is not None:
            pending = asyncio.ensure_future(anext(pages, None))
            yield page
    finally:
        # The client went away (or the walk failed): let the read in flight finish (one page; cancelling it
        # would hand its ClickHouse handle back while a thread still runs on it), then close the walk.
        await asyncio.gather(pending, return_exceptions=True)
        aclose = getattr(pages, "aclose", None)
        if aclose is not None:
            await aclose()


def execution_batches(
    ch: ClickHouse, tenant_id: str, query: ExecutionQuery, with_executions: bool, with_spans: bool
) -> AsyncIterator[ExecutionBatch]:
    """The executions matching `query` (and/or their spans), a page at a time (the next read ahead)."""
    return ahead(_execution_batches(ch, tenant_id, query, with_executions, with_spans))


async def _execution_batches(
    ch: ClickHouse,
    tenant_id: str,
    query: ExecutionQuery,
    with_executions: bool,
    with_spans: bool,
) -> AsyncIterator[ExecutionBatch]:
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
    """The events matching `query`, in id order, a page at a time (the next read ahead)."""
    return ahead(event_pages(ch, tenant_id, query, PAGE_ROWS))
