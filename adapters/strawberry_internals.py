"""Strawberry internals Tracehouse builds on, for the versions they were written against.

- MaskErrors' `_process_result` / `_process_errors` (graph/masking.py: codes for pre-execution errors,
  and no runtime Protocol check on every live update);
- ParserCache's `cached_parse_document` (graph/parser_cache.py) and `validate_document`
  (graph/bounded_validation.py);
- the graphql-core execution context class Strawberry executes with (graph/fast_execution.py), object
  definitions and name conversion (graph/raw_arguments.py), the schema's graphql-core schema, the attribute
  `strawberry.cast` marks an object with (graph/fast_execution.py: an uncast object of its own class is
  of its type);
- the graphql-core resolve info under a Strawberry Info (graph/execution_selection.py: a nested field's
  arguments, coerced as graphql-core will coerce them for that field);
- the graphql-transport-ws handler's operation plumbing and its websocket adapter (server/shared_streams.py).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo, GraphQLSchema

from adapters import require, require_attributes

VERSION = require("strawberry-graphql", ">=0.341.2,<0.342")

from strawberry import Schema  # noqa: E402
from strawberry.extensions import MaskErrors, ParserCache  # noqa: E402
from strawberry.http.exceptions import WebSocketDisconnected  # noqa: E402
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document  # noqa: E402
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (  # noqa: E402
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.types.base import StrawberryObjectDefinition, has_object_definition  # noqa: E402
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE  # noqa: E402
from strawberry.types.execution import ExecutionResult, PreExecutionError  # noqa: E402
from strawberry.types.info import Info  # noqa: E402
from strawberry.utils.aio import aclosing  # noqa: E402
from strawberry.utils.str_converters import to_camel_case  # noqa: E402

require_attributes(MaskErrors, "_process_result", "_process_errors")
require_attributes(ParserCache(maxsize=1), "cached_parse_document")
require_attributes(
    BaseGraphQLTransportWSHandler,
    "run_operation", "handle_task_exception", "_handle_pre_execution_error", "_reject_incremental_delivery",
)  # fmt: skip
require_attributes(Operation, "send_operation_message")


def starlette_websocket(handler: Any) -> Any:
    """The Starlette WebSocket under a graphql-transport-ws handler (Strawberry's ASGI adapter's `ws`)."""
    return handler.websocket.ws


def graphql_info(info: Info[Any, Any]) -> GraphQLResolveInfo:
    """The graphql-core resolve info a Strawberry Info wraps."""
    return info._raw_info


def graphql_schema(schema: Schema) -> GraphQLSchema:
    """The graphql-core schema inside a Strawberry schema."""
    return schema._schema


__all__ = [
    "TYPE_CAST_ATTRIBUTE",
    "BaseGraphQLTransportWSHandler",
    "ExecutionResult",
    "MaskErrors",
    "Operation",
    "ParserCache",
    "PreExecutionError",
    "StrawberryGraphQLCoreExecutionContext",
    "StrawberryObjectDefinition",
    "WebSocketDisconnected",
    "_OperationStreamClosed",
    "aclosing",
    "graphql_schema",
    "has_object_definition",
    "starlette_websocket",
    "to_camel_case",
    "validate_document",
]
