"""Finding a span by its id alone: HoneyHive's `PUT /events` names an event (span) but not its session."""

from __future__ import annotations

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.spans import MERGED_COLUMNS, SpanRecord


async def span_by_id(ch: ClickHouse, tenant_id: str, span_id: str, sources: tuple[str, ...]) -> SpanRecord | None:
    """The merged span with this id in the tenant that one of `sources` wrote a piece of (the most recently
    touched one if ids repeat across executions): ids are a format's own, so another format's span with the
    same id is not it. Pieces written before spans kept their source (ClickHouse migration 4) count as any
    format's. An execution id is its root span's id for HoneyHive sessions, so a session is found too."""
    rows = await ch.query(
        f"SELECT {MERGED_COLUMNS} FROM spans FINAL "
        "WHERE tenant_id = {tenant:String} AND span_id = {id:String} "
        "GROUP BY execution_id, span_id HAVING countIf(source IN {sources:Array(String)} OR source = '') > 0 "
        "ORDER BY last_ts DESC LIMIT 1",
        {"tenant": tenant_id, "id": span_id, "sources": list(sources)},
    )
    return SpanRecord.from_row(rows.rows[0]) if rows.rows else None


async def executions_of_spans(ch: ClickHouse, tenant_id: str, span_ids: list[str]) -> dict[str, str]:
    """The execution of each span id found in the tenant (OpenInference annotations name a span alone);
    an id that repeats across executions maps to the most recently touched. One query for all of them."""
    rows = await ch.query(
        "SELECT span_id, argMax(execution_id, ts) FROM spans "
        "WHERE tenant_id = {tenant:String} AND span_id IN {ids:Array(String)} GROUP BY span_id",
        {"tenant": tenant_id, "ids": span_ids},
    )
    return {r[0]: r[1] for r in rows.rows}
