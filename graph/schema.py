"""The Strawberry schema assembled from the root types."""

from __future__ import annotations

import strawberry

from graph import raw_arguments
from graph.mutation import Mutation, ingest_events_raw, log_spans_raw
from graph.query import Query


def build_schema(raw_bulk_arguments: bool = True) -> strawberry.Schema:
    built = strawberry.Schema(query=Query, mutation=Mutation)
    if raw_bulk_arguments:
        raw_arguments.install(
            built,
            "Mutation",
            {"ingestEvents": ("events", ingest_events_raw), "logSpans": ("spans", log_spans_raw)},
        )
    return built


schema = build_schema()
