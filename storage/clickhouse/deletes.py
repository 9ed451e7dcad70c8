"""Deleting a tenant's events and spans with ClickHouse's lightweight `DELETE`.

A lightweight delete marks the rows deleted in every part they live in and hides them from every SELECT
(FINAL or not, every table reader here) from the moment the statement returns: `lightweight_deletes_sync
= 2` makes it wait until the mark is written. Merges remove the rows physically later.

Two shapes: whole executions by id (their events and span pieces), and events by a filter (with the span
pieces they carried). Every statement is idempotent, so re-applying a deletion after a crash removes what
is left and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.events import VISIBLE
from storage.clickhouse.executions import ExecutionQuery, matching_ids_sql
from storage.clickhouse.values import add_filter, add_time_range

_SYNC = " SETTINGS lightweight_deletes_sync = 2"


@dataclass(frozen=True)
class EventSelection:
    """Which events of a tenant to delete; fields combine with AND, and no field set means every event."""

    since: datetime | None = None
    until: datetime | None = None
    names: tuple[str, ...] = ()
    actor_type: str | None = None
    actor_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    execution_id: str | None = None
    correlation_id: str | None = None

    def where(self, tenant_id: str) -> tuple[str, dict[str, Any]]:
        clauses = ["tenant_id = {tenant:String}"]
        params: dict[str, Any] = {"tenant": tenant_id}
        for column in ("actor_type", "actor_id", "resource_type", "resource_id", "execution_id", "correlation_id"):
            add_filter(clauses, params, f"{column} = {{{column}:String}}", column, getattr(self, column))
        add_filter(clauses, params, "name IN {names:Array(String)}", "names", self.names)
        add_time_range("timestamp", self.since, self.until, clauses, params)
        return " AND ".join(clauses), params


async def count_events(ch: ClickHouse, tenant_id: str, selection: EventSelection) -> int:
    """How many events (as the event reads count them) the selection matches."""
    where, params = selection.where(tenant_id)
    rows = await ch.query(f"SELECT count() FROM events FINAL WHERE {where} AND {VISIBLE}", params)
    return int(rows.rows[0][0])


async def delete_events(ch: ClickHouse, tenant_id: str, selection: EventSelection) -> None:
    """The span pieces of the matching events first (found through the events), then the events."""
    where, params = selection.where(tenant_id)
    await ch.command(
        "DELETE FROM spans WHERE tenant_id = {tenant:String} AND (execution_id, event_id) IN "
        f"(SELECT execution_id, id FROM events WHERE {where} AND is_span = 1){_SYNC}",
        params,
    )
    await ch.command(f"DELETE FROM events WHERE {where}{_SYNC}", params)


async def execution_ids(
    ch: ClickHouse, tenant_id: str, query: ExecutionQuery, resource: tuple[str | None, str | None], limit: int
) -> list[str]:
    """Up to `limit` ids of the tenant's executions matching the query and, when given, having an event about
    the resource (type and/or id)."""
    sql, params = matching_ids_sql(tenant_id, query)
    about: list[str] = []
    add_filter(about, params, "resource_type = {d_resource_type:String}", "d_resource_type", resource[0])
    add_filter(about, params, "resource_id = {d_resource_id:String}", "d_resource_id", resource[1])
    if about:
        sql = (
            f"SELECT id FROM ({sql}) WHERE id IN (SELECT execution_id FROM events "
            f"WHERE tenant_id = {{tenant:String}} AND {' AND '.join(about)})"
        )
    params["d_limit"] = limit
    rows = await ch.query(f"SELECT id FROM ({sql}) ORDER BY id LIMIT {{d_limit:UInt32}}", params)
    return [r[0] for r in rows.rows]


async def count_execution_events(ch: ClickHouse, tenant_id: str, ids: list[str]) -> int:
    rows = await ch.query(
        f"SELECT count() FROM events FINAL WHERE tenant_id = {{tenant:String}} AND execution_id IN "
        f"{{ids:Array(String)}} AND {VISIBLE}",
        {"tenant": tenant_id, "ids": ids},
    )
    return int(rows.rows[0][0])


async def existing_executions(ch: ClickHouse, tenant_id: str, ids: list[str]) -> list[str]:
    """Which of these ids are executions of the tenant (have spans)."""
    rows = await ch.query(
        "SELECT DISTINCT execution_id FROM spans WHERE tenant_id = {tenant:String} AND execution_id IN "
        "{ids:Array(String)}",
        {"tenant": tenant_id, "ids": ids},
    )
    return [r[0] for r in rows.rows]


async def delete_executions(ch: ClickHouse, tenant_id: str, ids: list[str]) -> None:
    """Every event, span piece and annotation of these executions."""
    params = {"tenant": tenant_id, "ids": ids}
    for table in ("events", "spans", "annotations"):
        await ch.command(
            f"DELETE FROM {table} WHERE tenant_id = {{tenant:String}} AND execution_id IN {{ids:Array(String)}}{_SYNC}",
            params,
        )


async def existing_event_ids(ch: ClickHouse, tenant_id: str, ids: list[str]) -> set[str]:
    """Which of these event ids are still stored for the tenant."""
    rows = await ch.query(
        "SELECT DISTINCT id FROM events WHERE tenant_id = {tenant:String} AND id IN {ids:Array(String)}",
        {"tenant": tenant_id, "ids": ids},
    )
    return {r[0] for r in rows.rows}


# registry table -> the event columns of its (type, id): a fixed map, never user input
_ENTITY_COLUMNS = {"actors": ("actor_type", "actor_id"), "resources": ("resource_type", "resource_id")}


async def entities_with_events(
    ch: ClickHouse, tenant_id: str, registry: str, keys: list[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which (type, id) of an actor or resource registry still have events."""
    type_col, id_col = _ENTITY_COLUMNS[registry]
    rows = await ch.query(
        f"SELECT DISTINCT {type_col}, {id_col} FROM events WHERE tenant_id = {{tenant:String}} "
        f"AND ({type_col}, {id_col}) IN {{keys:Array(Tuple(String, String))}}",
        {"tenant": tenant_id, "keys": keys},
    )
    return {(r[0], r[1]) for r in rows.rows}
