"""The root Mutation type: canonical writes, with the same guarantees as the REST paths."""

from __future__ import annotations

from typing import Any

import strawberry

from graph import writes
from graph.annotate import annotate
from graph.annotation import Annotation
from graph.annotation_input import AnnotationInput
from graph.annotation_source import AnnotationSource
from graph.context import Context, Info
from graph.delete_mutations import DeleteMutations
from graph.ingest_result import IngestResult
from graph.inputs import EventInput, SpanInput
from graph.raw_arguments import as_graphql_dict
from graph.scalars import JSON
from ingest.annotations import author_of


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

    @strawberry.mutation(
        description="Feedback on a Span or an Execution (`targetId`: its `nodeId`): a name and at least one of "
        "score, label, comment. NOT_FOUND when this tenant has no such target."
    )
    async def annotate(
        self,
        info: Info,
        target_id: strawberry.ID,
        name: str,
        source: AnnotationSource,
        score: float | None = None,
        label: str | None = None,
        comment: str | None = None,
        metadata: JSON | None = None,
    ) -> Annotation:
        item = {"targetId": target_id, "name": name, "source": source.value, "score": score, "label": label,
                "comment": comment, "metadata": metadata}  # fmt: skip
        return (await _annotate(info.context, [item], None))[0]

    @strawberry.mutation(description="Several annotations at once; the batch is stored whole or not at all.")
    async def annotate_many(self, info: Info, annotations: list[AnnotationInput]) -> list[Annotation]:
        items = [{"targetId": a.target_id, "name": a.name, "source": a.source.value, "score": a.score,
                  "label": a.label, "comment": a.comment, "metadata": a.metadata} for a in annotations]  # fmt: skip
        return await _annotate(info.context, items, "annotations")


async def _annotate(ctx: Context, items: list[dict[str, Any]], argument: str | None) -> list[Annotation]:
    assert ctx.principal is not None  # graph/scopes.py refuses operations without one
    author = author_of(ctx.principal.key_id)
    records = await annotate(ctx.stores.ch, ctx.tenant_id, author, items, ctx.stores.max_batch_items, argument)
    return [Annotation(record=r) for r in records]
