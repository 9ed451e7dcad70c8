from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from strawberry.dataloader import DataLoader

from storage.clickhouse.aggregates import ActorStatsRecord, actor_stats
from storage.clickhouse.client import ClickHouse

ActorStatsKey = tuple[str, str, datetime | None, datetime | None]


class ActorStatsByActorLoader(DataLoader[ActorStatsKey, ActorStatsRecord]):
    """Outcome counts per actor over a time range, keyed by (type, id, from, to): one query per range."""

    def __init__(self, ch: ClickHouse, tenant_id: str) -> None:
        async def load(keys: list[ActorStatsKey]) -> list[ActorStatsRecord]:
            ranges: dict[tuple[datetime | None, datetime | None], set[tuple[str, str]]] = defaultdict(set)
            for actor_type, actor_id, since, until in keys:
                ranges[(since, until)].add((actor_type, actor_id))
            found: dict[ActorStatsKey, ActorStatsRecord] = {}
            for (since, until), actors in ranges.items():
                for r in await actor_stats(ch, tenant_id, since, until, sorted(actors)):
                    found[(r.actor_type, r.actor_id, since, until)] = r
            return [found.get(k) or ActorStatsRecord(k[0], k[1], 0, 0, 0) for k in keys]

        super().__init__(load_fn=load)
