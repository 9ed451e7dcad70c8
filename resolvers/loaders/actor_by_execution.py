from __future__ import annotations

from strawberry.dataloader import DataLoader

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.executions import execution_actors


class ActorByExecutionLoader(DataLoader[str, tuple[str, str] | None]):
    """The (type, id) of the first actor in each execution's events: one query per batch."""

    def __init__(self, ch: ClickHouse, tenant_id: str) -> None:
        async def load(ids: list[str]) -> list[tuple[str, str] | None]:
            found = await execution_actors(ch, tenant_id, list(set(ids)))
            return [found.get(i) for i in ids]

        super().__init__(load_fn=load)
