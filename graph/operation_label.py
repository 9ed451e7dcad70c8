"""Names the GraphQL operation a request ran, for its log line and metrics."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from graph.request_id import request_info


class OperationLabel(SchemaExtension):
    """Notes the operation's type and name for the request's log line and metrics."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        info = request_info.get()
        if info is not None:
            try:
                info["operation"] = f"{context.operation_type.value} {context.operation_name or 'anonymous'}"
            except RuntimeError:
                info["operation"] = "invalid"
        yield
