"""The Strawberry schema assembled from the root types."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from graph import fast_execution, raw_arguments
from graph.mutation import Mutation, ingest_events_raw, log_spans_raw
from graph.query import Query
from graph.subscription import Subscription


def build_schema(raw_bulk_arguments: bool = True, fast_objects: bool = True) -> strawberry.Schema:
    # Frontends send the same few documents over and over: parse and validate each once.
    built = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[ParserCache(maxsize=256), ValidationCache(maxsize=256)],
    )
    if fast_objects:
        fast_execution.install(built)
    if raw_bulk_arguments:
        raw_arguments.install(
            built,
            "Mutation",
            {"ingestEvents": ("events", ingest_events_raw), "logSpans": ("spans", log_spans_raw)},
        )
    return built


schema = build_schema()
