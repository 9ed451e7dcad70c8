"""Whether an `execution(id)` selection needs the execution's summary, or only its id and spans.

The summary (name, status, times, root texts, span count …) merges every span of the trace: for a big
trace read page by page that was a second aggregation of the whole trace on every page. A selection of
only `id`, `__typename` and `spans` (without `totalCount`, which is the summary's span count) is answered
from the page itself, read ahead by `spans_found` with the field's own arguments: a page with a span shows
the execution exists, and only an empty one (or arguments the field refuses) asks the existence check.
Anything else, including a field added later, needs the summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
    VariableValues,
    get_argument_values,
    get_named_type,
)

from adapters.strawberry_internals import graphql_info
from graph.context import Info
from graph.execution import read_spans_page
from graph.ordering import SpanOrder
from graph.span_selection import flat_fields, span_needs, subfields
from resolvers.records import ExecutionRecord

_WITHOUT_SUMMARY = frozenset({"__typename", "id", "spans"})


def needs_summary(info: Info) -> bool:
    """For the `execution` field's info."""
    raw = graphql_info(info)
    for execution in flat_fields(raw.field_nodes, raw.fragments):
        for field in subfields(execution, raw.fragments):
            if field.name.value not in _WITHOUT_SUMMARY:
                return True
            if field.name.value == "spans" and any(
                f.name.value == "totalCount" for f in subfields(field, raw.fragments)
            ):
                return True
    return False


class UnsummarizedExecution:
    """Stands for an ExecutionRecord that was not read (needs_summary said no): its id only. Any other
    attribute is a bug in needs_summary, and says so instead of answering with a made-up value."""

    __slots__ = ("id",)

    def __init__(self, execution_id: str) -> None:
        self.id = execution_id

    def __getattr__(self, name: str) -> object:
        raise RuntimeError(f"the execution's summary was not read, yet its `{name}` was asked for")


def _spans_nodes(info: GraphQLResolveInfo) -> Iterator[FieldNode]:
    """The `spans` fields selected on the execution, fragments spread out, in document order; none under a
    directive."""

    def walk(selection_set: SelectionSetNode | None) -> Iterator[FieldNode]:
        for node in selection_set.selections if selection_set else ():
            if node.directives:
                continue  # @skip, @include, @defer …: left to the field itself, not read ahead
            if isinstance(node, FieldNode):
                if node.name.value == "spans":
                    yield node
            elif isinstance(node, InlineFragmentNode):
                yield from walk(node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                yield from walk(info.fragments[node.name.value].selection_set)

    for field in info.field_nodes:
        yield from walk(field.selection_set)


async def spans_found(info: Info, execution_id: str) -> bool:
    """Whether the first `spans` selection of this `execution` field (needs_summary said no) finds a span.
    It is read as Execution.spans will read it (the same arguments, coerced by graphql-core, and the same
    loader key), so that field's read is the loaders' cached answer: one query for the execution and its
    page. False, to ask the existence check instead, when the page is empty or its arguments are refused
    (the field itself then reports the error)."""
    raw = graphql_info(info)
    execution_type = get_named_type(raw.return_type)
    assert isinstance(execution_type, GraphQLObjectType)
    # Strawberry hands resolvers the coerced dict; graphql-core reads variables from its container
    coerced: Any = raw.variable_values
    variables = coerced if isinstance(coerced, VariableValues) else VariableValues({}, coerced)
    for node in _spans_nodes(raw):
        try:
            args = get_argument_values(execution_type.fields["spans"], node, variables)
            order = args.get("orderBy")
            page, _trace = await read_spans_page(
                info.context.loaders,
                cast(ExecutionRecord, UnsummarizedExecution(execution_id)),
                span_needs([node], raw.fragments),
                args.get("first", 100), args.get("after"), args.get("last"), args.get("before"),
                None if order is None or isinstance(order, SpanOrder) else SpanOrder(**order),
            )  # fmt: skip
        except (GraphQLError, TypeError, ValueError):  # the field reports it; the existence check decides
            return False
        return bool(page.items)
    return False
