"""Walking everything a filter matches, in pages of bounded size, for the streaming export.

A page is a range of the table's own sorting key (events: id; spans: execution id), so each read touches
only that range: a cheap probe without FINAL finds where the next `size` rows end (reading the key column
in key order), then the page reads that range with FINAL and the filter. The walk reads every row of the
tenant once whatever the filter, holds one page at a time, and needs no cursor on the server: the export
can stream for as long as the client takes. Rows removed by a lightweight DELETE are invisible to both
reads. Spans: the pieces of one execution are never split across pages (the range ends on a whole
execution), so a page may pass `size` by the rest of its last execution's pieces, and every span merges
from all of its pieces (storage/clickhouse/spans.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.events import COLUMNS, EventQuery, EventRecord, event_filter
from storage.clickhouse.spans import _ISO

# Only these (table, key column) pairs are walked: the second column of each table's sorting key.
_KEYS = {("events", "id"), ("spans", "execution_id")}


async def _range_end(
    ch: ClickHouse, table: str, column: str, tenant_id: str, after: str | None, size: int
) -> str | None:
    """The key `size` rows past `after` (exclusive) in sorting-key order; None when fewer are left."""
    assert (table, column) in _KEYS
    params: dict[str, Any] = {"tenant": tenant_id, "offset": size - 1}
    clause = ""
    if after is not None:
        clause, params["after"] = f" AND {column} > {{after:String}}", after
    rows = await ch.query(
        f"SELECT {column} FROM {table} WHERE tenant_id = {{tenant:String}}{clause} "
        f"ORDER BY tenant_id, {column} LIMIT 1 OFFSET {{offset:UInt64}}",
        params,
    )
    return str(rows.rows[0][0]) if rows.rows else None


def _in_range(column: str, after: str | None, upto: str | None, clauses: list[str], params: dict[str, Any]) -> None:
    if after is not None:
        clauses.append(f"{column} > {{range_after:String}}")
        params["range_after"] = after
    if upto is not None:
        clauses.append(f"{column} <= {{range_upto:String}}")
        params["range_upto"] = upto


async def event_pages(ch: ClickHouse, tenant_id: str, q: EventQuery, size: int) -> AsyncIterator[list[EventRecord]]:
    """Every event matching `q`, in id order, a page of at most `size` at a time (empty pages skipped)."""
    where, params = event_filter(tenant_id, q)
    after: str | None = None
    while True:
        upto = await _range_end(ch, "events", "id", tenant_id, after, size)
        clauses, page_params = [where], dict(params)
        _in_range("id", after, upto, clauses, page_params)
        # ClickHouse formats the timestamps (EventRecord.timestamp_iso): a million in Python is seconds of CPU
        sql = (
            f"SELECT {COLUMNS}, formatDateTime(timestamp, {_ISO}, 'UTC') FROM events FINAL "
            f"WHERE {' AND '.join(clauses)} ORDER BY id"
        )
        rows = await ch.query(sql, page_params)
        if rows.rows:
            yield [EventRecord.from_row(r) for r in rows.rows]
        if upto is None:
            return
        after = upto


async def execution_id_pages(ch: ClickHouse, tenant_id: str, size: int) -> AsyncIterator[list[str]]:
    """Every execution id of the tenant, in order, in pages covering about `size` span pieces each."""
    after: str | None = None
    while True:
        upto = await _range_end(ch, "spans", "execution_id", tenant_id, after, size)
        clauses, params = ["tenant_id = {tenant:String}"], {"tenant": tenant_id}
        _in_range("execution_id", after, upto, clauses, params)
        rows = await ch.query(
            f"SELECT DISTINCT execution_id FROM spans WHERE {' AND '.join(clauses)} ORDER BY execution_id", params
        )
        if rows.rows:
            yield [str(r[0]) for r in rows.rows]
        if upto is None:
            return
        after = upto
