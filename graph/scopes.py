"""Who may run an operation: nobody without a principal; `read` may query and subscribe, `ingest` may run
mutations, `admin` both. Checked before validation, so a refused caller costs no validation work."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from resolvers.stores import Principal

NEEDED = {OperationType.QUERY: "read", OperationType.SUBSCRIPTION: "read", OperationType.MUTATION: "ingest"}


def allows(scopes: tuple[str, ...], needed: str) -> bool:
    return "admin" in scopes or needed in scopes


class ScopeGuard(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if not context.pre_execution_errors:
            error = self._refusal(getattr(context.context, "principal", None)) or self._wrong_transport()
            if error is not None:
                context.pre_execution_errors = [error]
        yield

    def _wrong_transport(self) -> GraphQLError | None:
        """A subscription sent as a plain HTTP request: it streams only over the websocket."""
        request = getattr(self.execution_context.context, "request", None)
        over_http = request is not None and request.scope.get("type") == "http"
        try:
            subscription = self.execution_context.operation_type is OperationType.SUBSCRIPTION
        except RuntimeError:  # no such operation: validation reports it
            return None
        if over_http and subscription:
            return GraphQLError(
                "subscriptions stream over the websocket at /graphql (graphql-transport-ws), not over HTTP",
                extensions={"code": "BAD_REQUEST"},
            )
        return None

    def _refusal(self, principal: Principal | None) -> GraphQLError | None:
        # The HTTP middleware and the websocket handshake authenticate first; this is the guarantee that
        # nothing executes if a route ever lets a request through without a principal.
        if principal is None:
            return GraphQLError("missing API key", extensions={"code": "UNAUTHENTICATED"})
        try:
            needed = NEEDED[self.execution_context.operation_type]
        except RuntimeError:  # no such operation: validation reports it
            return None
        scopes = principal.scopes
        if allows(scopes, needed):
            return None
        return GraphQLError(
            f"this API key lacks the `{needed}` scope (it has: {', '.join(scopes)})", extensions={"code": "FORBIDDEN"}
        )
