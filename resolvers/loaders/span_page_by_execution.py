"""A page of an execution's spans read by itself: the keyset and LIMIT in SQL, only the columns asked for.

Used when the selection needs no span's parent or children (those need the whole trace, which
TraceByExecutionLoader reads once): a big trace is then paged without re-reading it, and a skeleton
without its texts. Pages of many executions with the same shape are one query.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from strawberry.dataloader import DataLoader

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.spans import SpanRecord, SpanWindow, read_spans


class SpanPageKey(NamedTuple):
    execution_id: str
    window: SpanWindow
    details: frozenset[str]  # the detail fields to read (storage.clickhouse.spans.ALL_DETAILS names)


class SpanPageByExecutionLoader(DataLoader[SpanPageKey, list[SpanRecord]]):
    def __init__(self, ch: ClickHouse, tenant_id: str) -> None:
        async def load(keys: list[SpanPageKey]) -> list[list[SpanRecord]]:
            shapes: dict[tuple[SpanWindow, frozenset[str]], set[str]] = defaultdict(set)
            for k in keys:
                shapes[(k.window, k.details)].add(k.execution_id)
            found: dict[SpanPageKey, list[SpanRecord]] = {}
            for (window, details), ids in shapes.items():
                spans = await read_spans(ch, tenant_id, sorted(ids), window, details)
                if len(ids) == 1:  # one execution's page, the common case: no per-span grouping (10k spans: ~3 ms)
                    found[SpanPageKey(next(iter(ids)), window, details)] = spans
                    continue
                by_execution: dict[str, list[SpanRecord]] = defaultdict(list)
                for span in spans:
                    by_execution[span.execution_id].append(span)
                for execution_id, page in by_execution.items():
                    found[SpanPageKey(execution_id, window, details)] = page
            return [found.get(k, []) for k in keys]

        super().__init__(load_fn=load)
