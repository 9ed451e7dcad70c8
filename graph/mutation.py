"""The root Mutation type: canonical writes, with the same guarantees as the REST paths."""

from __future__ import annotations

from typing import Any

import strawberry

from graph import writes
from graph.context import Context, Info
from graph.delete_mutations import DeleteMutations
from graph.ingest_result import IngestResult
from graph.inputs import EventInput, SpanInput
from graph.raw_arguments import as_graphql_dict


def _result(ids: list[str]) -> IngestResult:
    return IngestResult(count=len(ids), success=True, event_ids=[strawberry.ID(i) for i in ids])


async def ingest_events_raw(ctx: Context, items: list[dict[str, Any]]) -> IngestResult:
    return _result(await writes.ingest_events(ctx.stores.writer, ctx.tenant_id, items, ctx.stores.max_batch_items))


async def log_spans_raw(ctx: Context, items: list[dict[str, Any]]) -> IngestResult:
    return _result(await writes.log_spans(ctx.stores.writer, ctx.tenant_id, items, ctx.stores.max_batch_items))


@strawberry.type
class Mutation(DeleteMutations):
    @strawberry.mutation(description="Lifecycle and audit events; a batch is stored whole or not at all.")
    async def ingest_events(self, info: Info, events: list[EventInput]) -> IngestResult:
        return await ingest_events_raw(info.context, as_graphql_dict(events))

    @strawberry.mutation(description="Complete spans in one call; a batch is stored whole or not at all.")
    async def log_spans(self, info: Info, spans: list[SpanInput]) -> IngestResult:
        return await log_spans_raw(info.context, as_graphql_dict(spans))
