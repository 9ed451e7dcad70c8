"""Listing merged spans by field filters, a page at a time: HoneyHive's event export (`POST /v1/events/export`)
reads spans as its events. Filters name fields from a fixed whitelist; their values are typed parameters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.spans import MERGED_COLUMNS, SpanRecord
from storage.clickhouse.values import clamp

# A span's HoneyHive event type, from the kind any format gave it.
EVENT_TYPE = ("multiIf(kind IN ('MODEL', 'LLM', 'EMBEDDING'), 'model', kind = 'TOOL', 'tool', "
              "kind = 'SESSION', 'session', 'chain')")  # fmt: skip
# HoneyHive's field names → the merged span's SQL (a fixed whitelist, never user text).
FIELDS: dict[str, str] = {
    "session_id": "execution_id",
    "event_id": "span_id",
    "parent_id": "parent_id",
    "event_name": "name",
    "event_type": EVENT_TYPE,
}


@dataclass(frozen=True, slots=True)
class FieldFilter:
    field: str  # a key of FIELDS
    value: str
    contains: bool = False  # else equal
    negate: bool = False


def _where(filters: list[FieldFilter], since: datetime | None, until: datetime | None,
           params: dict[str, Any]) -> tuple[str, str]:  # fmt: skip
    """(a narrowing of the pieces read, the conditions on the merged spans)."""
    inner, outer = "", ["1"]
    for index, f in enumerate(filters):
        name = f"f{index}"
        params[name] = f.value
        test = f"position({FIELDS[f.field]}, {{{name}:String}}) > 0" if f.contains else \
            f"{FIELDS[f.field]} = {{{name}:String}}"  # fmt: skip
        outer.append(f"NOT ({test})" if f.negate else test)
        if f.field == "session_id" and not f.contains and not f.negate:
            inner += f" AND execution_id = {{{name}:String}}"  # one trace's key range
    if since is not None:
        outer.append("start >= {since:DateTime64(6, 'UTC')}")
        params["since"] = clamp(since)
    if until is not None:
        outer.append("start <= {until:DateTime64(6, 'UTC')}")
        params["until"] = clamp(until)
    return inner, " AND ".join(outer)


async def export_spans(
    ch: ClickHouse,
    tenant_id: str,
    filters: list[FieldFilter],
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[SpanRecord], int]:
    """One page of the matching spans in (start, execution, id) order, and how many match in all."""
    params: dict[str, Any] = {"tenant": tenant_id, "limit": limit, "offset": offset}
    inner, outer = _where(filters, since, until, params)
    merged = (
        f"SELECT * FROM (SELECT {MERGED_COLUMNS} FROM spans FINAL WHERE tenant_id = {{tenant:String}}{inner} "
        f"GROUP BY execution_id, span_id) WHERE {outer}"
    )
    rows = await ch.query(
        f"{merged} ORDER BY start, execution_id, span_id LIMIT {{limit:UInt32}} OFFSET {{offset:UInt64}}", params
    )
    total = await ch.query(f"SELECT count() FROM ({merged})", params)
    return [SpanRecord.from_row(r) for r in rows.rows], int(total.rows[0][0])
