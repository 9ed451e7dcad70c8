from __future__ import annotations

from strawberry.dataloader import DataLoader

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.executions import Rollup, rollups


class RollupByExecutionLoader(DataLoader[str, Rollup]):
    """Usage per model and cost per unit, summed over each execution's spans: two queries per batch."""

    def __init__(self, ch: ClickHouse, tenant_id: str) -> None:
        async def load(ids: list[str]) -> list[Rollup]:
            found = await rollups(ch, tenant_id, list(set(ids)))
            return [found[i] for i in ids]

        super().__init__(load_fn=load)
