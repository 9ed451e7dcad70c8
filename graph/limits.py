"""Abuse limits for GraphQL, checked before anything runs: the size of a document once its fragments are
expanded, depth, aliases, and a cost that multiplies page sizes through nesting.

Every measure is computed once per fragment and reused wherever the fragment is spread, so the work is
linear in the written document: fragments that each spread the next twice describe 2^n fields in n lines,
and expanding them spread by spread is how a 30-line document froze the server. The expanded size is
capped by the token limit (an expanded document may not be bigger than one that could be written out).

Cost counts the objects a response can hold: each field that returns an object counts once per object it
can return, so the items of a connection count its page size (`first` or `last`, or the argument's default
when omitted) and an unpaged list (children, rootSpans, Span.events …) counts LIST_FACTOR, each multiplied
by the lists and pages around it. Leaves are part of their object: an object type has a fixed set of them,
so counting them per item only scaled every figure by the width of a type, which made one wide trace cost
more than fifty narrow ones. An aliased leaf counts once per object (an alias repeats a value the object
already holds; the alias limit bounds how often). So one execution's 100,000 spans with all their own
fields (usage, cost and error included) cost ~800,000 and fit the default limit, while
`executions(first: 50) { edges { node { spans(first: 10000) { … } } } }` costs 50 x 10,000 x 2 and is
refused before anything runs, with a message naming the pages it asked for and how to page instead. The
limiter fails closed: variables are coerced first (a page size that is not an Int is refused, not
ignored), and a cost that cannot be computed refuses the operation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
    get_variable_values,
    value_from_ast,
)

log = logging.getLogger(__name__)

LIST_FACTOR = 2  # children and events of a span are parts of one bounded trace, not pages
PAGE_ARGUMENTS = ("first", "last")
REPORTED_COST_CAP = 2**53  # a fan-out's cost can pass any integer JSON encoders take


@dataclass(frozen=True)
class GraphQLLimits:
    max_depth: int = 15
    max_aliases: int = 30
    max_tokens: int = 20_000
    max_cost: int = 1_000_000
    dev_tools: bool = True  # introspection, GraphiQL and field suggestions


class LimitExceeded(GraphQLError):
    """A document refused by a limit; `code` goes into the error's extensions."""

    def __init__(self, message: str, code: str = "GRAPHQL_VALIDATION_FAILED", **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code, **extensions})


@dataclass(frozen=True)
class Shape:
    """What a selection set amounts to once its fragments are expanded."""

    fields: int = 0  # every field, counted as often as it would appear expanded
    depth: int = 0  # levels of fields below it (a leaf field is 0; introspection fields count 0)
    aliases: int = 0


def _add(a: Shape, b: Shape) -> Shape:
    return Shape(a.fields + b.fields, max(a.depth, b.depth), a.aliases + b.aliases)


def _fields_of(parent: Any) -> dict[str, Any]:
    return parent.fields if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else {}


def _is_list(field_type: Any) -> bool:
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    return isinstance(inner, GraphQLList)


class DocumentAnalysis:
    """Shape and cost of a parsed document's operations, each fragment measured once."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        self._shapes: dict[str, Shape] = {}
        self._costs: dict[tuple[str, int | None], int] = {}
        self._open: set[str] = set()
        self.pages: dict[str, int] = {}  # each paged field's name -> the largest page the operation asks of it

    def _fragment(self, name: str) -> FragmentDefinitionNode | None:
        if name in self._open:  # a cycle: validation proper would say so, but only after expanding it
            raise LimitExceeded(f"fragment `{name}` spreads itself")
        return self.fragments.get(name)

    # shape: fields, depth, aliases
    def shape(self, selection_set: SelectionSetNode | None) -> Shape:
        total = Shape()
        for selection in selection_set.selections if selection_set is not None else ():
            if isinstance(selection, FieldNode):
                child = self.shape(selection.selection_set)
                introspection = selection.name.value.startswith("__")
                total = _add(total, Shape(
                    1 + child.fields,
                    0 if introspection or selection.selection_set is None else 1 + child.depth,
                    (1 if selection.alias else 0) + child.aliases,
                ))  # fmt: skip
            elif isinstance(selection, InlineFragmentNode):
                total = _add(total, self.shape(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                total = _add(total, self._fragment_shape(selection.name.value))
        return total

    def _fragment_shape(self, name: str) -> Shape:
        if name not in self._shapes:
            fragment = self._fragment(name)
            if fragment is None:
                return Shape()  # unknown fragment: validation proper names it
            self._open.add(name)
            self._shapes[name] = self.shape(fragment.selection_set)
            self._open.discard(name)
        return self._shapes[name]

    # cost: objects, multiplied by the page sizes and lists around them
    def cost(
        self, parent: Any, selection_set: SelectionSetNode | None, variables: dict[str, Any], page: int | None = None
    ) -> int:
        """The objects `selection_set` can hold on one `parent`; `page` is the page size of the paged field
        it is the selection of (whose list fields, a connection's `edges`, hold that many items)."""
        total = 0
        for selection in selection_set.selections if selection_set is not None else ():
            if not _included(selection, variables):
                continue
            if isinstance(selection, FieldNode):
                total += self._field_cost(parent, selection, variables, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition is not None else parent
                total += self.cost(target, selection.selection_set, variables, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment_cost(selection.name.value, variables, page)
        return total

    def _fragment_cost(self, name: str, variables: dict[str, Any], page: int | None) -> int:
        if (name, page) not in self._costs:
            fragment = self._fragment(name)
            if fragment is None:
                return 0
            self._open.add(name)
            target = self.schema.get_type(fragment.type_condition.name.value)
            self._costs[(name, page)] = self.cost(target, fragment.selection_set, variables, page)
            self._open.discard(name)
        return self._costs[(name, page)]

    def _field_cost(self, parent: Any, node: FieldNode, variables: dict[str, Any], page: int | None) -> int:
        if node.selection_set is None:  # a leaf is part of its object; an alias repeats one; a root leaf is a read
            roots = (self.schema.query_type, self.schema.mutation_type, self.schema.subscription_type)
            read = parent in roots and not node.name.value.startswith("__")
            return 1 if node.alias is not None or read else 0
        field = _fields_of(parent).get(node.name.value)
        if field is None:  # introspection, or unknown (validation proper names it)
            return 1 + self.shape(node.selection_set).fields
        pages = [self._page(field, node, name, variables) for name in PAGE_ARGUMENTS if name in field.args]
        own_page = max(pages) if pages else None
        if own_page is not None:
            self.pages[node.name.value] = max(own_page, self.pages.get(node.name.value, 0))
        items = (page if page is not None else LIST_FACTOR) if _is_list(field.type) else 1
        return items * (1 + self.cost(get_named_type(field.type), node.selection_set, variables, own_page))

    @staticmethod
    def _page(field: Any, node: FieldNode, name: str, variables: dict[str, Any]) -> int:
        argument = field.args[name]
        given = next((a.value for a in node.arguments or () if a.name.value == name), None)
        value = value_from_ast(given, argument.type, variables) if given is not None else argument.default_value
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1

    def chosen(self, operation_name: str | None) -> list[OperationDefinitionNode]:
        """The operation that will run; every one when the name is missing (execution then refuses, but the
        limits must not be the part that guesses)."""
        if operation_name is None:
            return self.operations
        return [o for o in self.operations if o.name is not None and o.name.value == operation_name]


def _included(node: SelectionNode, variables: dict[str, Any]) -> bool:
    """False for a selection `@skip(if: true)` or `@include(if: false)` leaves out: the executor never resolves it,
    so it costs nothing. An `if` that is not a boolean (validation refuses it) counts the selection: fails closed."""
    return _condition(node, "skip", variables) is not True and _condition(node, "include", variables) is not False


def _condition(node: SelectionNode, directive: str, variables: dict[str, Any]) -> bool | None:
    """The `if` of the node's @skip or @include, None when it has none or it is not a boolean."""
    for found in node.directives or ():
        if found.name.value == directive:
            given = next((a.value for a in found.arguments or () if a.name.value == "if"), None)
            value = value_from_ast(given, GraphQLBoolean, variables) if given is not None else None
            return value if isinstance(value, bool) else None
    return None


def check_shape(analysis: DocumentAnalysis, limits: GraphQLLimits) -> None:
    """Size, depth and aliases over every operation of the document; raises LimitExceeded."""
    shapes = [analysis.shape(operation.selection_set) for operation in analysis.operations]
    fields = sum(s.fields for s in shapes)
    if fields > limits.max_tokens:
        raise LimitExceeded(
            f"the document expands to {fields:,} fields (fragments spread out), more than the limit of "
            f"{limits.max_tokens:,}"
        )
    # A root field sits at level 0: the deepest field's level is the operation's depth.
    depth = max((s.depth for s in shapes), default=0)
    if depth > limits.max_depth:
        raise LimitExceeded(f"the operation's depth {depth} exceeds the maximum depth of {limits.max_depth}")
    aliases = sum(s.aliases for s in shapes)
    if aliases > limits.max_aliases:
        raise LimitExceeded(f"{aliases} aliases found, more than the maximum of {limits.max_aliases} aliases")


def coerce_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, raw: dict[str, Any] | None
) -> dict[str, Any]:
    """Variables as execution will see them; a value that does not coerce refuses the operation."""
    coerced = get_variable_values(schema, operation.variable_definitions or (), raw or {})
    if isinstance(coerced, list):
        raise coerced[0]
    return coerced.coerced


def check_cost(
    analysis: DocumentAnalysis, limits: GraphQLLimits, operation_name: str | None, variables: dict[str, Any] | None
) -> int:
    """The chosen operation's cost; raises LimitExceeded over the limit. Fails closed."""
    cost, pages = 0, {}
    for operation in analysis.chosen(operation_name):
        coerced = coerce_variables(analysis.schema, operation, variables)
        root = analysis.schema.get_root_type(operation.operation)
        analysis._costs.clear()  # fragment costs depend on the variables of the operation that spreads them
        analysis.pages = {}
        operation_cost = analysis.cost(root, operation.selection_set, coerced)
        if operation_cost >= cost:
            cost, pages = operation_cost, analysis.pages
    if cost > limits.max_cost:
        raise LimitExceeded(refusal(cost, limits.max_cost, pages), code="QUERY_TOO_COSTLY",
                            cost=min(cost, REPORTED_COST_CAP), limit=limits.max_cost)  # fmt: skip
    return cost


def refusal(cost: int, limit: int, pages: dict[str, int]) -> str:
    """What was asked and how to ask instead: the pages that multiply, and keyset paging."""
    asked = ", ".join(f"`{name}` {page:,}" for name, page in pages.items() if page > 1)
    return (
        f"query cost {cost:,} exceeds the limit of {limit:,}"
        + (f" (pages asked for: {asked}; nested pages multiply)" if asked else "")
        + ": ask for smaller pages (or fewer nested lists) with `first`, and fetch the next page with `after: "
        "pageInfo.endCursor`, one request per page. One execution's spans with all their own fields fit one "
        "request up to 100,000 (`execution(id) { spans(first: 100000) { … } }`): read many executions' spans one "
        "execution at a time."
    )
