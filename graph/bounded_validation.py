"""Validation whose own work is bounded, then the limits that need a valid document.

One extension does the whole validation step, in an order that keeps every part cheap: first the document's
shape (expanded size, depth, aliases: linear in the written document, graph/limits.py), then graphql-core's
rules (a big document is validated on a worker thread so the event loop keeps serving), both once per parsed
document, then the cost of the chosen operation with its variables coerced, on every request. Anything
unexpected refuses the operation: a limit that cannot be checked is not a limit that passed.

Strawberry builds a fresh instance per operation (the schema is given a factory, never an instance: a shared
instance carries one request's context into another's under concurrency).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema
from strawberry.extensions import SchemaExtension

from adapters.strawberry_internals import graphql_schema, validate_document
from graph.limits import DocumentAnalysis, GraphQLLimits, LimitExceeded, check_cost, check_shape

log = logging.getLogger(__name__)

THREAD_ABOVE_CHARACTERS = 8_000  # documents this long take milliseconds to validate: off the event loop


_CHECKED_LIMIT = 256
# (schema, document, rules, limits) by identity -> (the objects, kept alive so their ids stay unique; the document's
# graphql-core validation errors). Only documents within the shape limits are kept (one beyond them is measured,
# and refused, every time). Keyed by identity, not by the key's hash: the parser cache hands out one object per
# document text, and graphql-core's nodes are frozen dataclasses whose hash walks the whole document (~50 µs of a
# span's every field, on every request).
_CHECKED: OrderedDict[tuple[int, int, tuple[Any, ...], GraphQLLimits], tuple[object, list[GraphQLError]]] = (
    OrderedDict()
)


def _checked(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...], limits: GraphQLLimits
) -> list[GraphQLError] | None:
    key = (id(schema), id(document), rules, limits)
    entry = _CHECKED.get(key)
    if entry is None:
        return None
    _CHECKED.move_to_end(key)
    return entry[1]


def _remember(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...], limits: GraphQLLimits,
    errors: list[GraphQLError],
) -> None:  # fmt: skip
    _CHECKED[(id(schema), id(document), rules, limits)] = ((schema, document), errors)
    if len(_CHECKED) > _CHECKED_LIMIT:
        _CHECKED.popitem(last=False)


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
        rules = tuple(context.validation_rules)
        # The document's shape and graphql-core's rules depend on the document alone: checked once per document
        # (the parser cache's object). The cost depends on the variables: checked on every request.
        errors = _checked(schema, document, rules, self.limits)
        if errors is None:
            check_shape(analysis, self.limits)
            if len(context.query or "") > THREAD_ABOVE_CHARACTERS:
                errors = await asyncio.to_thread(validate_document, schema, document, rules)
            else:
                errors = validate_document(schema, document, rules)
            _remember(schema, document, rules, self.limits, errors)
        if not errors:
            check_cost(analysis, self.limits, context.operation_name, context.variables)
        return list(errors)
