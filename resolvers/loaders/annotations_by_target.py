from __future__ import annotations

from collections import defaultdict

from strawberry.dataloader import DataLoader

from storage.clickhouse.annotations import AnnotationRecord, annotations_of
from storage.clickhouse.client import ClickHouse

Target = tuple[str, str]  # (execution_id, span_id); span_id '' for the execution itself


class AnnotationsByTargetLoader(DataLoader[Target, list[AnnotationRecord]]):
    """Annotations of executions and spans, oldest first: one ClickHouse query per batch, however many
    executions and spans a response lists."""

    def __init__(self, ch: ClickHouse, tenant_id: str) -> None:
        async def load(keys: list[Target]) -> list[list[AnnotationRecord]]:
            executions = sorted({e for e, _ in keys})
            spans = sorted({s for _, s in keys})
            found: defaultdict[Target, list[AnnotationRecord]] = defaultdict(list)
            for record in await annotations_of(ch, tenant_id, executions, spans):
                found[(record.execution_id, record.span_id)].append(record)
            return [found.get(k, []) for k in keys]

        super().__init__(load_fn=load)
