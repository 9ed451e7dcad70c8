"""Reading events: tenant-scoped, deduplicated with FINAL, typed parameters only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.values import add_filter, add_time_range, utc

_COLUMNS = (
    "id, name, timestamp, source, execution_id, span_id, actor_type, actor_id, resource_type, "
    "resource_id, correlation_id, causation_id, outcome, payload"
)
# Ties of the sort value are broken by this, not the id alone: the same id may be two formats' events.
TIE = "concat(id, '\\0', source)"
# The orders the event log can be listed in: a fixed whitelist, never user text.
# Field → (column, parameter type of its keyset value).
ORDERS: dict[str, tuple[str, str]] = {"TIMESTAMP": ("timestamp", "DateTime64(6, 'UTC')"), "NAME": ("name", "String")}


@dataclass(slots=True)
class EventRecord:
    id: str
    name: str
    timestamp: datetime
    source: str
    execution_id: str
    span_id: str
    actor_type: str
    actor_id: str
    resource_type: str
    resource_id: str
    correlation_id: str
    causation_id: str
    outcome: str
    payload: str
    timestamp_iso: str = ""  # the timestamp as the API shows it, when the read had ClickHouse format it

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> EventRecord:
        record = cls(*row)
        record.timestamp = utc(record.timestamp)
        return record


@dataclass(frozen=True)
class EventQuery:
    """Filters users expect on an event log; every one is optional and they combine with AND."""

    names: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    actor_type: str | None = None
    actor_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    execution_id: str | None = None
    span_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    ascending: bool = False
    audit_view: bool = False  # only the events of the audit view (AUDIT_VIEW)


# Rows that only carry a span piece for another row's sake (HoneyHive `children_ids` give each child its
# parent): stored as events so spans build from them, but not facts a user sent, so never read as events.
VISIBLE = "name != 'honeyhive.child_link'"
# The audit view: the audit format's events, and other formats' events that say who did what (GraphQL events
# with an actor). The trace formats' span events name no actor and are not in it.
AUDIT_VIEW = "(source = 'audit' OR actor_type != '')"


def _where(tenant_id: str, q: EventQuery) -> tuple[str, dict[str, Any]]:
    clauses = ["tenant_id = {tenant:String}", VISIBLE, *([AUDIT_VIEW] if q.audit_view else [])]
    params: dict[str, Any] = {"tenant": tenant_id}
    for column, value in (
        ("actor_type", q.actor_type),
        ("actor_id", q.actor_id),
        ("resource_type", q.resource_type),
        ("resource_id", q.resource_id),
        ("correlation_id", q.correlation_id),
        ("causation_id", q.causation_id),
        ("execution_id", q.execution_id),
        ("span_id", q.span_id),
    ):
        add_filter(clauses, params, f"{column} = {{{column}:String}}", column, value)
    add_filter(clauses, params, "name IN {names:Array(String)}", "names", q.names)
    add_filter(clauses, params, "source IN {sources:Array(String)}", "sources", q.sources)
    add_time_range("timestamp", q.since, q.until, clauses, params)
    return " AND ".join(clauses), params


async def events_by_ids(ch: ClickHouse, tenant_id: str, ids: list[str]) -> dict[str, list[EventRecord]]:
    """Every format's event with each id (an id is unique within a format, not across formats), newest
    first, then by source."""
    rows = await ch.query(
        f"SELECT {_COLUMNS} FROM events FINAL WHERE tenant_id = {{tenant:String}} AND id IN {{ids:Array(String)}} "
        f"AND {VISIBLE} ORDER BY timestamp DESC, source",
        {"tenant": tenant_id, "ids": ids},
    )
    found: dict[str, list[EventRecord]] = {}
    for r in rows.rows:
        found.setdefault(r[0], []).append(EventRecord.from_row(r))
    return found


async def list_events(
    ch: ClickHouse,
    tenant_id: str,
    q: EventQuery,
    limit: int,
    after: tuple[Any, str] | None = None,
    offset: int = 0,
    order: str = "TIMESTAMP",
) -> list[EventRecord]:
    """A page in (ORDERS[order], id) order, descending unless q.ascending; `after` is an exclusive keyset."""
    where, params = _where(tenant_id, q)
    column, value_type = ORDERS[order]
    direction = "ASC" if q.ascending else "DESC"
    if after is not None:
        op = ">" if q.ascending else "<"
        where += f" AND ({column}, {TIE}) {op} ({{after_v:{value_type}}}, {{after_id:String}})"
        params["after_v"], params["after_id"] = after
    params["limit"], params["offset"] = limit, offset
    rows = await ch.query(
        f"SELECT {_COLUMNS} FROM events FINAL WHERE {where} "
        f"ORDER BY {column} {direction}, {TIE} {direction} LIMIT {{limit:UInt32}} OFFSET {{offset:UInt64}}",
        params,
    )
    return [EventRecord.from_row(r) for r in rows.rows]


async def count_events(ch: ClickHouse, tenant_id: str, q: EventQuery) -> int:
    where, params = _where(tenant_id, q)
    rows = await ch.query(f"SELECT count() FROM events FINAL WHERE {where}", params)
    return int(rows.rows[0][0])


# The dimensions events are grouped by for per-parent lists (a fixed set: never user input).
GROUPINGS: dict[str, tuple[str, ...]] = {
    "execution": ("execution_id",),
    "span": ("execution_id", "span_id"),
    "actor": ("actor_type", "actor_id"),
    "resource": ("resource_type", "resource_id"),
    "correlation": ("correlation_id",),
}


def _group_filter(grouping: str, keys: list[tuple[str, ...]], params: dict[str, Any]) -> tuple[str, str]:
    columns = GROUPINGS[grouping]
    if len(columns) == 1:
        params["keys"] = [k[0] for k in keys]
        return columns[0], f"{columns[0]} IN {{keys:Array(String)}}"
    params["keys"] = [tuple(k) for k in keys]
    tuple_sql = f"({', '.join(columns)})"
    types = ", ".join("String" for _ in columns)
    return tuple_sql, f"{tuple_sql} IN {{keys:Array(Tuple({types}))}}"


async def grouped_events(
    ch: ClickHouse,
    tenant_id: str,
    grouping: str,
    keys: list[tuple[str, ...]],
    per_group: int | None,
    ascending: bool,
    after: tuple[datetime, str] | None = None,
) -> dict[tuple[str, ...], list[EventRecord]]:
    """Up to `per_group` events for each key in one query (row_number over the group), in time order."""
    params: dict[str, Any] = {"tenant": tenant_id}
    group_sql, key_filter = _group_filter(grouping, keys, params)
    direction = "ASC" if ascending else "DESC"
    where = f"tenant_id = {{tenant:String}} AND {key_filter} AND {VISIBLE}"
    if after is not None:
        op = ">" if ascending else "<"
        where += f" AND (timestamp, {TIE}) {op} ({{after_ts:DateTime64(6, 'UTC')}}, {{after_id:String}})"
        params["after_ts"], params["after_id"] = after
    columns = GROUPINGS[grouping]
    sql = f"SELECT {', '.join(columns)}, {_COLUMNS} FROM events FINAL WHERE {where}"
    if per_group is not None:
        params["per_group"] = per_group
        sql = (
            f"SELECT * FROM (SELECT {', '.join(columns)}, {_COLUMNS}, row_number() OVER "
            f"(PARTITION BY {group_sql} ORDER BY timestamp {direction}, {TIE} {direction}) AS rn "
            f"FROM events FINAL WHERE {where}) WHERE rn <= {{per_group:UInt32}}"
        )
    rows = await ch.query(f"{sql} ORDER BY timestamp {direction}, {TIE} {direction}", params)
    width = len(columns)
    out: dict[tuple[str, ...], list[EventRecord]] = {tuple(k): [] for k in keys}
    for row in rows.rows:
        out.setdefault(tuple(row[:width]), []).append(EventRecord.from_row(row[width : width + 14]))
    return out


async def grouped_counts(
    ch: ClickHouse, tenant_id: str, grouping: str, keys: list[tuple[str, ...]]
) -> dict[tuple[str, ...], int]:
    params: dict[str, Any] = {"tenant": tenant_id}
    _, key_filter = _group_filter(grouping, keys, params)
    columns = GROUPINGS[grouping]
    rows = await ch.query(
        f"SELECT {', '.join(columns)}, count() FROM events FINAL "
        f"WHERE tenant_id = {{tenant:String}} AND {key_filter} AND {VISIBLE} GROUP BY {', '.join(columns)}",
        params,
    )
    width = len(columns)
    counts = {tuple(k): 0 for k in keys}
    counts.update({tuple(r[:width]): int(r[width]) for r in rows.rows})
    return counts


# How the group commit inserts. Nearly every part an insert writes is merged soon after (ReplacingMergeTree, many
# small inserts), and a merge rebuilds the skip indexes from its rows (materialize_skip_indexes_on_merge, on by
# default) and replaces rows by key: building the indexes and replacing duplicate ids within the insert as well
# was work done twice. Without them an insert costs ~12% less CPU (1,000 Vellum events) to ~30% less (10,000 OTLP
# spans: the n-gram index of `spans` is most of it). Until its first merge a fresh part is read in full by the
# reads the indexes would have narrowed (a small part: cheap); reads dedupe with FINAL across parts anyway.
INSERT_SETTINGS: dict[str, Any] = {"materialize_skip_indexes_on_insert": 0, "optimize_on_insert": 0}


async def insert_events(ch: ClickHouse, data: Sequence[Sequence[object]], columns: tuple[str, ...]) -> None:
    """Insert events given column-wise, one sequence of values per column of `columns` (their span pieces reach
    `spans` through the materialized view, in the same insert): all of them or, on an error, none."""
    await ch.insert_columns("events", data, columns, settings=INSERT_SETTINGS)


def event_filter(tenant_id: str, q: EventQuery) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of `q` over `events` and its parameters, for readers of other shapes (export)."""
    return _where(tenant_id, q)


COLUMNS = _COLUMNS  # what EventRecord.from_row reads, in its order
