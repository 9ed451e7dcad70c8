from __future__ import annotations

from strawberry.dataloader import DataLoader

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.spans import SpanRecord, spans_by_keys


class SpanByKeyLoader(DataLoader[tuple[str, str], SpanRecord | None]):
    """Single spans by (execution id, span id), heavy fields included, without reading their traces: what a
    viewer asks for when one span of a 50,000-span execution is selected. One ClickHouse query per batch."""

    def __init__(self, ch: ClickHouse, tenant_id: str) -> None:
        async def load(keys: list[tuple[str, str]]) -> list[SpanRecord | None]:
            found = {(r.execution_id, r.id): r for r in await spans_by_keys(ch, tenant_id, list(set(keys)))}
            return [found.get(k) for k in keys]

        super().__init__(load_fn=load)
