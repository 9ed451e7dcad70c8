"""The root Mutation type: canonical writes, with the same guarantees as the REST paths."""

from __future__ import annotations

import strawberry

from graph.context import Info
from graph.ingest_result import IngestResult
from graph.inputs import EventInput, SpanInput
from resolvers import ingest


def _result(ids: list[str]) -> IngestResult:
    return IngestResult(count=len(ids), success=True, event_ids=[strawberry.ID(i) for i in ids])


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Lifecycle and audit events; a batch is stored whole or not at all.")
    async def ingest_events(self, info: Info, events: list[EventInput]) -> IngestResult:
        ctx = info.context
        items = [strawberry.asdict(e) for e in events]
        ids = await ingest.ingest_events(ctx.stores.writer, ctx.tenant_id, items, ctx.stores.max_batch_items)
        return _result(ids)

    @strawberry.mutation(description="Complete spans in one call; a batch is stored whole or not at all.")
    async def log_spans(self, info: Info, spans: list[SpanInput]) -> IngestResult:
        ctx = info.context
        items = [strawberry.asdict(s) for s in spans]
        ids = await ingest.log_spans(ctx.stores.writer, ctx.tenant_id, items, ctx.stores.max_batch_items)
        return _result(ids)
