"""Text search over spans: which spans' name, inputs, outputs or error contain a text.

Semantics: a case-insensitive (UTF-8 lower-cased) substring of any of the four fields as the merged span
shows them (a value a later piece replaced no longer matches); `%`, `_` and `\\` match literally; inputs,
outputs and errors are searched in their stored JSON text. The spans table carries an n-gram bloom filter
over the lower-cased fields (ClickHouse migration 3), so granules that cannot hold the text are skipped
before the exact test on the merged span; texts shorter than the n-gram (3) cannot use it and scan.
A bloom filter rather than the newer `text` index (which chDB 26.9 has): a ClickHouse server given by URL
may be older, and a migration must apply to every supported store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.spans import MERGED_COLUMNS, SpanRecord

# The expression the skip index is built on (migrations.py uses it verbatim: a query must name the same
# expression for the index to apply). Fields are joined by a newline; a match across two fields is removed
# by the exact test on the merged span.
SEARCH_TEXT = "lowerUTF8(concat(span_name, '\\n', inputs, '\\n', outputs, '\\n', error))"
_PATTERN = "lowerUTF8({search:String})"
_MERGED_TEXT = """
    execution_id, span_id,
    argMaxIf(span_name, ts, span_name != '') AS name,
    argMaxIf(inputs, ts, inputs != '') AS m_inputs,
    argMaxIf(outputs, ts, outputs != '') AS m_outputs,
    argMaxIf(error, ts, error != '') AS m_error
"""


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's metacharacters escaped, so the text matches literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def candidate_spans_sql(search: str, params: dict[str, Any]) -> str:
    """The (execution_id, span_id) of pieces that may match: the scan the skip index serves."""
    params["search"] = like_pattern(search)
    where = f"tenant_id = {{tenant:String}} AND {SEARCH_TEXT} LIKE {_PATTERN}"
    return f"SELECT execution_id, span_id FROM spans WHERE {where}"


def matching_spans_sql(search: str, params: dict[str, Any]) -> str:
    """A subquery of the (execution_id, span_id) of the tenant's spans matching `search`. It uses the
    {tenant:String} parameter and sets {search:String}."""
    candidates = candidate_spans_sql(search, params)
    merged = (
        f"SELECT {_MERGED_TEXT} FROM spans FINAL WHERE tenant_id = {{tenant:String}} "
        f"AND (execution_id, span_id) IN ({candidates}) GROUP BY execution_id, span_id"
    )
    exact = " OR ".join(f"lowerUTF8({c}) LIKE {_PATTERN}" for c in ("name", "m_inputs", "m_outputs", "m_error"))
    return f"SELECT execution_id, span_id FROM ({merged}) WHERE {exact}"


def _search(tenant_id: str, search: str) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"tenant": tenant_id}
    matching = matching_spans_sql(search, params)
    sql = (
        f"SELECT {MERGED_COLUMNS} FROM spans FINAL WHERE tenant_id = {{tenant:String}} "
        f"AND (execution_id, span_id) IN ({matching}) GROUP BY execution_id, span_id"
    )
    return sql, params


async def search_spans(
    ch: ClickHouse, tenant_id: str, search: str, limit: int, after: tuple[datetime, str, str] | None
) -> list[SpanRecord]:
    """Matching spans, newest start first, then by (execution id, span id); `after` is an exclusive keyset."""
    sql, params = _search(tenant_id, search)
    where = ""
    if after is not None:
        where = (
            "WHERE (start, execution_id, span_id) < "
            "({after_ts:DateTime64(6, 'UTC')}, {after_execution:String}, {after_span:String})"
        )
        params["after_ts"], params["after_execution"], params["after_span"] = after
    params["limit"] = limit
    rows = await ch.query(
        f"SELECT * FROM ({sql}) {where} ORDER BY start DESC, execution_id DESC, span_id DESC LIMIT {{limit:UInt32}}",
        params,
    )
    return [SpanRecord.from_row(r) for r in rows.rows]


async def count_spans(ch: ClickHouse, tenant_id: str, search: str) -> int:
    params: dict[str, Any] = {"tenant": tenant_id}
    rows = await ch.query(f"SELECT count() FROM ({matching_spans_sql(search, params)})", params)
    return int(rows.rows[0][0])
