"""Event analytics: counts by type/actor/resource and per-actor outcomes, tenant-scoped, over a time range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.events import AUDIT_VIEW, VISIBLE
from storage.clickhouse.values import add_time_range


def _range(
    tenant_id: str, since: datetime | None, until: datetime | None, audit_view: bool = False
) -> tuple[str, dict[str, Any]]:
    where = ["tenant_id = {tenant:String}", VISIBLE, *([AUDIT_VIEW] if audit_view else [])]
    params: dict[str, Any] = {"tenant": tenant_id}
    add_time_range("timestamp", since, until, where, params)
    return " AND ".join(where), params


@dataclass
class Aggregates:
    total: int
    by_event_type: list[tuple[str, int]]
    by_actor_type: list[tuple[str, int]]
    by_resource_type: list[tuple[str, int]]


async def event_aggregates(
    ch: ClickHouse, tenant_id: str, since: datetime | None, until: datetime | None, audit_view: bool = False
) -> Aggregates:
    """One pass with GROUPING SETS; events without an actor or resource are not counted under those keys
    (`audit_view`: only the audit view's events are counted)."""
    where, params = _range(tenant_id, since, until, audit_view)
    rows = await ch.query(
        "SELECT grouping(name, actor_type, resource_type) AS g, name, actor_type, resource_type, count() "
        f"FROM events FINAL WHERE {where} "
        "GROUP BY GROUPING SETS ((), (name), (actor_type), (resource_type)) ORDER BY count() DESC, name, "
        "actor_type, resource_type",
        params,
    )
    total = 0
    by: dict[int, list[tuple[str, int]]] = {0b011: [], 0b101: [], 0b110: []}
    for g, name, actor_type, resource_type, count in rows.rows:
        if g == 0b111:  # standard GROUPING: a bit is 1 where the column is not in the set
            total = int(count)
        elif g == 0b011:
            by[g].append((name, int(count)))
        elif g == 0b101 and actor_type:
            by[g].append((actor_type, int(count)))
        elif g == 0b110 and resource_type:
            by[g].append((resource_type, int(count)))
    return Aggregates(total, by[0b011], by[0b101], by[0b110])


@dataclass(frozen=True, slots=True)
class ActorStatsRecord:
    actor_type: str
    actor_id: str
    successes: int
    failures: int
    total: int


async def actor_stats(
    ch: ClickHouse,
    tenant_id: str,
    since: datetime | None,
    until: datetime | None,
    actors: list[tuple[str, str]] | None = None,
) -> list[ActorStatsRecord]:
    """Per (actor type, actor id): events that count as success, as failure (see ingest/outcome.py), and all."""
    where, params = _range(tenant_id, since, until)
    where += " AND actor_id != ''"
    if actors is not None:
        where += " AND (actor_type, actor_id) IN {actors:Array(Tuple(String, String))}"
        params["actors"] = actors
    rows = await ch.query(
        "SELECT actor_type, actor_id, countIf(outcome = 'success'), countIf(outcome = 'failure'), count() "
        f"FROM events FINAL WHERE {where} GROUP BY actor_type, actor_id ORDER BY count() DESC, actor_type, actor_id",
        params,
    )
    return [ActorStatsRecord(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows.rows]
