"""Reading events: tenant-scoped, deduplicated with FINAL, typed parameters only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from storage.clickhouse.client import ClickHouse

_COLUMNS = (
    "id, name, timestamp, source, execution_id, span_id, actor_type, actor_id, resource_type, "
    "resource_id, correlation_id, causation_id, outcome, payload"
)


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

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> EventRecord:
        record = cls(*row)
        if record.timestamp.tzinfo is None:  # chDB may drop the zone; the column is UTC
            record.timestamp = record.timestamp.replace(tzinfo=UTC)
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


def _where(tenant_id: str, q: EventQuery) -> tuple[str, dict[str, Any]]:
    clauses = ["tenant_id = {tenant:String}"]
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
        if value is not None:
            clauses.append(f"{column} = {{{column}:String}}")
            params[column] = value
    if q.names:
        clauses.append("name IN {names:Array(String)}")
        params["names"] = list(q.names)
    if q.sources:
        clauses.append("source IN {sources:Array(String)}")
        params["sources"] = list(q.sources)
    if q.since is not None:
        clauses.append("timestamp >= {since:DateTime64(6, 'UTC')}")
        params["since"] = q.since
    if q.until is not None:
        clauses.append("timestamp < {until:DateTime64(6, 'UTC')}")
        params["until"] = q.until
    return " AND ".join(clauses), params


async def events_by_ids(ch: ClickHouse, tenant_id: str, ids: list[str]) -> dict[str, EventRecord]:
    rows = await ch.query(
        f"SELECT {_COLUMNS} FROM events FINAL WHERE tenant_id = {{tenant:String}} AND id IN {{ids:Array(String)}}",
        {"tenant": tenant_id, "ids": ids},
    )
    return {r[0]: EventRecord.from_row(r) for r in rows.rows}


async def list_events(
    ch: ClickHouse,
    tenant_id: str,
    q: EventQuery,
    limit: int,
    after: tuple[datetime, str] | None = None,
    offset: int = 0,
) -> list[EventRecord]:
    """A page in (timestamp, id) order, newest first unless q.ascending; `after` is an exclusive keyset."""
    where, params = _where(tenant_id, q)
    direction = "ASC" if q.ascending else "DESC"
    if after is not None:
        op = ">" if q.ascending else "<"
        where += f" AND (timestamp, id) {op} ({{after_ts:DateTime64(6, 'UTC')}}, {{after_id:String}})"
        params["after_ts"], params["after_id"] = after
    params["limit"], params["offset"] = limit, offset
    rows = await ch.query(
        f"SELECT {_COLUMNS} FROM events FINAL WHERE {where} "
        f"ORDER BY timestamp {direction}, id {direction} LIMIT {{limit:UInt32}} OFFSET {{offset:UInt64}}",
        params,
    )
    return [EventRecord.from_row(r) for r in rows.rows]


async def count_events(ch: ClickHouse, tenant_id: str, q: EventQuery) -> int:
    where, params = _where(tenant_id, q)
    rows = await ch.query(f"SELECT count() FROM events FINAL WHERE {where}", params)
    return int(rows.rows[0][0])
