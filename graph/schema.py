"""The Strawberry schema assembled from the root types, with its limits."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from graph import fast_execution, raw_arguments
from graph.limits import GraphQLLimits, cost_limiter
from graph.masking import MaskUnexpectedErrors
from graph.mutation import Mutation, ingest_events_raw, log_spans_raw
from graph.operation_label import OperationLabel
from graph.parser_cache import SyntaxSafeParserCache
from graph.query import Query
from graph.scopes import ScopeGuard
from graph.subscription import Subscription


def build_schema(
    limits: GraphQLLimits | None = None, raw_bulk_arguments: bool = True, fast_objects: bool = True
) -> strawberry.Schema:
    limits = limits or GraphQLLimits()
    extensions: list[SchemaExtension | type[SchemaExtension]] = [
        # Frontends send the same few documents over and over: parse and validate each once.
        SyntaxSafeParserCache(maxsize=256),
        QueryDepthLimiter(max_depth=limits.max_depth),
        MaxAliasesLimiter(max_alias_count=limits.max_aliases),
        MaxTokensLimiter(max_token_count=limits.max_tokens),
        # ValidationCache fills in the validation errors, so the checks that add their own come after it.
        ValidationCache(maxsize=256),
        cost_limiter(limits.max_cost),
        ScopeGuard,
        OperationLabel,
        MaskUnexpectedErrors(),
    ]
    if not limits.dev_tools:
        extensions.append(DisableIntrospection())
    built = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not limits.dev_tools),
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
