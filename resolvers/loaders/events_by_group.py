from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from strawberry.dataloader import DataLoader

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.events import EventRecord, grouped_events


class EventsKey(NamedTuple):
    grouping: str  # a key of storage.clickhouse.events.GROUPINGS
    key: tuple[str, ...]
    limit: int | None  # rows per group; None for all
    ascending: bool


class EventsByGroupLoader(DataLoader[EventsKey, list[EventRecord]]):
    """The first events of many parents (executions, spans, actors, resources) with one query per shape."""

    def __init__(self, ch: ClickHouse, tenant_id: str) -> None:
        async def load(keys: list[EventsKey]) -> list[list[EventRecord]]:
            shapes: dict[tuple[str, int | None, bool], set[tuple[str, ...]]] = defaultdict(set)
            for k in keys:
                shapes[(k.grouping, k.limit, k.ascending)].add(k.key)
            results: dict[EventsKey, list[EventRecord]] = {}
            for (grouping, limit, ascending), group_keys in shapes.items():
                found = await grouped_events(ch, tenant_id, grouping, sorted(group_keys), limit, ascending)
                for key, events in found.items():
                    results[EventsKey(grouping, key, limit, ascending)] = events
            return [results.get(k, []) for k in keys]

        super().__init__(load_fn=load)
