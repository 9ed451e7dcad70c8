"""Validation whose own work is bounded, then the limits that need a valid document.

One extension does the whole validation step, in an order that keeps every part cheap: first the document's
shape (expanded size, depth, aliases: linear in the written document, graph/limits.py), then graphql-core's
rules (cached per parsed document; a big document is validated on a worker thread so the event loop keeps
serving), then the cost of the chosen operation with its variables coerced. Anything unexpected refuses the
operation: a limit that cannot be checked is not a limit that passed.

Strawberry builds a fresh instance per operation (the schema is given a factory, never an instance: a shared
instance carries one request's context into another's under concurrency).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema
from strawberry.extensions import SchemaExtension

from adapters.strawberry_internals import graphql_schema, validate_document
from graph.limits import DocumentAnalysis, GraphQLLimits, LimitExceeded, check_cost, check_shape

log = logging.getLogger(__name__)

THREAD_ABOVE_CHARACTERS = 8_000  # documents this long take milliseconds to validate: off the event loop


@lru_cache(maxsize=256)
def _validate(schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...]) -> list[GraphQLError]:
    # Keyed by the parsed document's identity: the parser cache hands out one object per document text.
    return validate_document(schema, document, rules)


class BoundedValidation(SchemaExtension):
    def __init__(self, limits: GraphQLLimits) -> None:
        super().__init__()
        self.limits = limits

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and not context.pre_execution_errors:
            try:
                context.pre_execution_errors = await self._errors(context)
            except GraphQLError as error:
                context.pre_execution_errors = [error]
            except Exception:
                log.exception("the limits could not be checked; refusing the operation")
                context.pre_execution_errors = [
                    LimitExceeded("the operation could not be checked against the limits", "INTERNAL_SERVER_ERROR")
                ]
        yield

    async def _errors(self, context: Any) -> list[GraphQLError]:
        schema = graphql_schema(context.schema)
        document: DocumentNode = context.graphql_document
        analysis = DocumentAnalysis(schema, document)
        check_shape(analysis, self.limits)
        rules = tuple(context.validation_rules)
        if len(context.query or "") > THREAD_ABOVE_CHARACTERS:
            errors = await asyncio.to_thread(_validate, schema, document, rules)
        else:
            errors = _validate(schema, document, rules)
        if not errors:
            check_cost(analysis, self.limits, context.operation_name, context.variables)
        return list(errors)
