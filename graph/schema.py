"""The Strawberry schema assembled from the root types, with its limits."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import strawberry
from strawberry.extensions import DisableIntrospection, MaxTokensLimiter, SchemaExtension
from strawberry.schema.config import StrawberryConfig

from graph import fast_execution, raw_arguments
from graph.bounded_validation import BoundedValidation
from graph.limits import GraphQLLimits
from graph.masking import MaskUnexpectedErrors
from graph.mutation import Mutation, ingest_events_raw, log_spans_raw
from graph.operation_label import OperationLabel
from graph.parser_cache import SyntaxSafeParserCache
from graph.query import Query
from graph.release_loaders import ReleaseLoaders
from graph.scopes import ScopeGuard
from graph.subscription import Subscription


def build_schema(
    limits: GraphQLLimits | None = None, raw_bulk_arguments: bool = True, fast_objects: bool = True
) -> strawberry.Schema:
    limits = limits or GraphQLLimits()
    # Classes or factories only, never instances: Strawberry builds each operation its own extensions, and
    # an instance shared between concurrent operations sees another operation's context (strawberry#3172:
    # errors of one request went out unmasked in another's response).
    extensions: list[Callable[[], SchemaExtension]] = [
        ScopeGuard,  # first: an operation without a principal gets no further
        # Frontends send the same few documents over and over: parse and validate each once.
        partial(SyntaxSafeParserCache, maxsize=256),
        partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
        partial(BoundedValidation, limits),
        OperationLabel,
        MaskUnexpectedErrors,
        ReleaseLoaders,
    ]
    if not limits.dev_tools:
        extensions.append(DisableIntrospection)
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
