"""Whether executions exist, by id: for an `execution(id)` whose selection needs nothing of its summary (only
its spans), where the summary would merge every span of a big trace just to be thrown away."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.executions import existing_executions


class ExecutionExistsByIdLoader(DataLoader[str, bool]):
    """One ClickHouse query per batch."""

    def __init__(self, ch: ClickHouse, tenant_id: str) -> None:
        async def load(ids: list[str]) -> list[bool]:
            found = await existing_executions(ch, tenant_id, sorted(set(ids)))
            return [i in found for i in ids]

        super().__init__(load_fn=load)
