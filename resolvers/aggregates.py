"""Event analytics over a time range, for the root fields `eventAggregates` and `actorStats`."""

from __future__ import annotations

from datetime import datetime

from storage.clickhouse import aggregates
from storage.clickhouse.aggregates import ActorStatsRecord, Aggregates
from storage.clickhouse.client import ClickHouse


async def event_aggregates(
    ch: ClickHouse, tenant_id: str, since: datetime | None, until: datetime | None, audit_view: bool = False
) -> Aggregates:
    return await aggregates.event_aggregates(ch, tenant_id, since, until, audit_view)


async def actor_stats(
    ch: ClickHouse, tenant_id: str, since: datetime | None, until: datetime | None
) -> list[ActorStatsRecord]:
    """Every actor's counts, busiest first (one actor's go through the actor_stats_by_actor loader)."""
    return await aggregates.actor_stats(ch, tenant_id, since, until)
