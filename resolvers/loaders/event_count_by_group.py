from __future__ import annotations

from collections import defaultdict

from strawberry.dataloader import DataLoader

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.events import grouped_counts


class EventCountByGroupLoader(DataLoader[tuple[str, tuple[str, ...]], int]):
    """How many events each parent has, keyed by (grouping, key): one query per grouping."""

    def __init__(self, ch: ClickHouse, tenant_id: str) -> None:
        async def load(keys: list[tuple[str, tuple[str, ...]]]) -> list[int]:
            by_grouping: dict[str, set[tuple[str, ...]]] = defaultdict(set)
            for grouping, key in keys:
                by_grouping[grouping].add(key)
            counts: dict[tuple[str, tuple[str, ...]], int] = {}
            for grouping, group_keys in by_grouping.items():
                found = await grouped_counts(ch, tenant_id, grouping, sorted(group_keys))
                counts.update({(grouping, k): v for k, v in found.items()})
            return [counts.get(k, 0) for k in keys]

        super().__init__(load_fn=load)
