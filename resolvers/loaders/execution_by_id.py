from __future__ import annotations

from strawberry.dataloader import DataLoader

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.executions import ExecutionRecord, executions_by_ids


class ExecutionByIdLoader(DataLoader[str, ExecutionRecord | None]):
    """Execution summaries of one tenant by id: one ClickHouse query per batch."""

    def __init__(self, ch: ClickHouse, tenant_id: str) -> None:
        async def load(ids: list[str]) -> list[ExecutionRecord | None]:
            found = await executions_by_ids(ch, tenant_id, list(set(ids)))
            return [found.get(i) for i in ids]

        super().__init__(load_fn=load)
