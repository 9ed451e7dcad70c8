from __future__ import annotations

from strawberry.dataloader import DataLoader

from resolvers.trace import Trace
from storage.clickhouse.client import ClickHouse
from storage.clickhouse.spans import SpanRecord, spans_of_executions


class TraceByExecutionLoader(DataLoader[str, Trace]):
    """Every span of the requested executions in one query; parents, children and pages come from memory."""

    def __init__(self, ch: ClickHouse, tenant_id: str) -> None:
        async def load(ids: list[str]) -> list[Trace]:
            grouped: dict[str, list[SpanRecord]] = {i: [] for i in ids}
            for span in await spans_of_executions(ch, tenant_id, list(set(ids))):
                grouped[span.execution_id].append(span)
            return [Trace(grouped[i]) for i in ids]

        super().__init__(load_fn=load)
