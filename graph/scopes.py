"""Key scopes for GraphQL: `read` may query and subscribe, `ingest` may run mutations, `admin` both."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

NEEDED = {OperationType.QUERY: "read", OperationType.SUBSCRIPTION: "read", OperationType.MUTATION: "ingest"}


def allows(scopes: tuple[str, ...], needed: str) -> bool:
    return "admin" in scopes or needed in scopes


class ScopeGuard(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        principal = getattr(context.context, "principal", None)
        if not context.pre_execution_errors and principal is not None:
            try:
                needed = NEEDED[context.operation_type]
            except RuntimeError:  # no such operation: validation reports it
                needed = None
            if needed is not None and not allows(principal.scopes, needed):
                context.pre_execution_errors = [
                    GraphQLError(
                        f"this API key lacks the `{needed}` scope (it has: {', '.join(principal.scopes)})",
                        extensions={"code": "FORBIDDEN"},
                    )
                ]
        yield
