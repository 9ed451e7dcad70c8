"""Bulk mutations take graphql-core's coerced argument dicts as they are.

graphql-core has already validated and coerced `[EventInput!]!` (scalars parsed, types checked); Strawberry
would then rebuild every item as an input object field by field, which costs ~120 ms per 1,000 events —
most of a bulk request. The fields named here resolve straight from the coerced dicts; their Strawberry
methods declare the schema and resolve the same way through `as_graphql_dict` when called directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry import Schema

from adapters.strawberry_internals import graphql_schema, has_object_definition, to_camel_case

RawResolver = Callable[[Any, list[dict[str, Any]]], Awaitable[Any]]


def as_graphql_dict(value: Any) -> Any:
    """A Strawberry input object as the dict graphql-core would have produced (GraphQL field names)."""
    if has_object_definition(value):
        definition = value.__strawberry_definition__
        return {f.graphql_name or to_camel_case(f.python_name): as_graphql_dict(getattr(value, f.python_name))
                for f in definition.fields}  # fmt: skip
    if isinstance(value, list):
        return [as_graphql_dict(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {to_camel_case(k): as_graphql_dict(v) for k, v in vars(value).items()}
    return value


def install(schema: Schema, type_name: str, fields: dict[str, tuple[str, RawResolver]]) -> None:
    """Resolve `type_name.field` with `resolver(context, raw_items)`, items being argument `arg`."""
    graphql_type = graphql_schema(schema).get_type(type_name)
    if not isinstance(graphql_type, GraphQLObjectType):
        raise ValueError(f"{type_name} is not an object type of the schema")
    for field_name, (arg, resolver) in fields.items():
        field = graphql_type.fields[field_name]

        def resolve(_root: Any, info: GraphQLResolveInfo, _arg: str = arg, _fn: RawResolver = resolver,
                    **kwargs: Any) -> Awaitable[Any]:  # fmt: skip
            return _fn(info.context, kwargs[_arg])

        field.resolve = resolve
