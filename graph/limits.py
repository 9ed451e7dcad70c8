"""Abuse limits for GraphQL: depth, aliases, tokens, and a cost that multiplies page sizes through nesting.

Cost counts every field once, multiplied by the page size of each enclosing connection (`first`, or the
argument's default when omitted) and by LIST_FACTOR for each enclosing unpaged list (children, rootSpans,
Span.events …). `executions(first: 50) { edges { node { spans(first: 10000) { … } } } }` therefore costs
50 x 10,000 x its leaves, and is refused before anything runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast,
)
from strawberry.extensions import SchemaExtension

LIST_FACTOR = 2  # children and events of a span are parts of one bounded trace, not pages


@dataclass(frozen=True)
class GraphQLLimits:
    max_depth: int = 15
    max_aliases: int = 30
    max_tokens: int = 20_000
    max_cost: int = 1_000_000
    dev_tools: bool = True  # introspection, GraphiQL and field suggestions


def _is_list(field_type: Any) -> bool:
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    return isinstance(inner, GraphQLList)


class _Costing:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]):
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selection_cost(self, parent: GraphQLObjectType, selection_set: SelectionSetNode, seen: frozenset[str]) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field_cost(parent, selection, seen)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None and fragment.name.value not in seen:  # cycles are a validation error
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    if isinstance(target, GraphQLObjectType):
                        total += self.selection_cost(target, fragment.selection_set, seen | {fragment.name.value})
            elif isinstance(selection, InlineFragmentNode):
                target = (
                    self.schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                )
                if isinstance(target, GraphQLObjectType):
                    total += self.selection_cost(target, selection.selection_set, seen)
        return total

    def field_cost(self, parent: GraphQLObjectType, node: FieldNode, seen: frozenset[str]) -> int:
        field = parent.fields.get(node.name.value)
        if field is None:
            return 1
        multiplier = 1
        if "first" in field.args:
            given = next((a.value for a in node.arguments if a.name.value == "first"), None)
            value = value_from_ast(given, field.args["first"].type, self.variables) if given is not None else None
            multiplier = value if isinstance(value, int) and value > 0 else (field.args["first"].default_value or 1)
        elif _is_list(field.type):
            multiplier = LIST_FACTOR
        child = 0
        named = get_named_type(field.type)
        if node.selection_set is not None and isinstance(named, GraphQLObjectType):
            child = self.selection_cost(named, node.selection_set, seen)
        return 1 + multiplier * child


def operation_cost(schema: GraphQLSchema, document: Any, operation_name: str | None, variables: dict[str, Any]) -> int:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    costing = _Costing(schema, fragments, variables)
    total = 0
    for operation in chosen[:1]:
        root = schema.get_root_type(operation.operation)
        if root is not None:
            total += costing.selection_cost(root, operation.selection_set, frozenset())
    return total


class CostLimiter(SchemaExtension):
    """Refuses an operation whose cost exceeds the limit, before validation-passing queries execute."""

    max_cost = 1_000_000

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and not context.pre_execution_errors:
            try:
                cost = operation_cost(context.schema._schema, context.graphql_document, context.operation_name,
                                      context.variables or {})  # fmt: skip
            except Exception:  # a malformed document: validation proper will name the problem
                cost = 0
            if cost > self.max_cost:
                context.pre_execution_errors = [
                    GraphQLError(
                        f"query cost {cost:,} exceeds the limit of {self.max_cost:,}: ask for smaller pages",
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": self.max_cost},
                    )
                ]
        yield


def cost_limiter(max_cost: int) -> type[CostLimiter]:
    return type("BoundCostLimiter", (CostLimiter,), {"max_cost": max_cost})
