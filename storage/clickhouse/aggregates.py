"""Event analytics: counts by type/actor/resource and per-actor outcomes, tenant-scoped, over a time range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.deduplicated import Source, events_once
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
    columns = "name, actor_type, resource_type"
    for after_shadowed in (False, True):  # a row that may have another version: read its key with FINAL
        source = await events_once(ch, columns, where, params, after_shadowed)
        rows = await ch.query(_AGGREGATES.format(source=source.sql) + source.settings, source.params)
        if not any(r[5] for r in rows.rows):
            break
    total = 0
    by: dict[int, list[tuple[str, int]]] = {0b011: [], 0b101: [], 0b110: []}
    for g, name, actor_type, resource_type, count, _ in rows.rows:
        if g == 0b111:  # standard GROUPING: a bit is 1 where the column is not in the set
            total = int(count)
        elif not count:
            continue
        elif g == 0b011:
            by[g].append((name, int(count)))
        elif g == 0b101 and actor_type:
            by[g].append((actor_type, int(count)))
        elif g == 0b110 and resource_type:
            by[g].append((resource_type, int(count)))
    return Aggregates(total, by[0b011], by[0b101], by[0b110])


_AGGREGATES = (
    "SELECT grouping(name, actor_type, resource_type) AS g, name, actor_type, resource_type, countIf(counted) AS n, "
    "countIf(shadowed) FROM {source} GROUP BY GROUPING SETS ((), (name), (actor_type), (resource_type)) "
    "ORDER BY n DESC, name, actor_type, resource_type"
)


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
    columns = "actor_type, actor_id, outcome"
    found = await _actor_counts(ch, await events_once(ch, columns, where, params))
    if found is None:  # a row that may have another version: read its key with FINAL (no row is shadowed then)
        found = await _actor_counts(ch, await events_once(ch, columns, where, params, after_shadowed=True))
    return found or []


async def _actor_counts(ch: ClickHouse, source: Source) -> list[ActorStatsRecord] | None:
    counts = (
        "countIf(outcome = 'success' AND counted), countIf(outcome = 'failure' AND counted), countIf(counted) AS n, "
        "countIf(shadowed) AS s"
    )
    # Grouping by the id alone costs a third of grouping by (type, id) (both LowCardinality; bench/analytics.py).
    # The type comes back exact: an id whose rows all hash their type alike (OR of the hashes = AND) has one
    # type when no two of the tenant's types share a hash; otherwise the pairs are grouped as they are.
    distinct = "SELECT DISTINCT actor_type AS t FROM events WHERE tenant_id = {tenant:String}"
    rows = (
        await ch.query(
            f"WITH (SELECT uniqExact(cityHash64(t)) = count() FROM ({distinct})) AS types_hash_apart "
            f"SELECT any(actor_type) AS type, actor_id, {counts}, groupBitOrIf(cityHash64(actor_type), counted) "
            "= groupBitAndIf(cityHash64(actor_type), counted) AND types_hash_apart "
            f"FROM {source.sql} GROUP BY actor_id HAVING n > 0 OR s > 0 ORDER BY n DESC, type, actor_id"
            f"{source.settings}",
            source.params,
        )
    ).rows
    if not all(r[6] for r in rows):
        rows = (
            await ch.query(
                f"SELECT actor_type, actor_id, {counts} FROM {source.sql} GROUP BY actor_type, actor_id "
                f"HAVING n > 0 OR s > 0 ORDER BY n DESC, actor_type, actor_id{source.settings}",
                source.params,
            )
        ).rows
    if any(r[5] for r in rows):
        return None
    return [ActorStatsRecord(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows]
