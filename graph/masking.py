"""What errors look like to clients: unexpected exceptions as a generic error with the request id, never
their text; documents that do not parse or validate with a code saying so, like every other error."""

from __future__ import annotations

import logging
from typing import Protocol, cast

from graphql import GraphQLError, GraphQLSyntaxError

from adapters.strawberry_internals import MaskErrors
from graph.request_id import request_id
from resolvers.errors import unavailable
from resolvers.stores import StoreUnavailable

log = logging.getLogger(__name__)


def _unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class _WithErrors(Protocol):
    errors: list[GraphQLError] | None


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_unexpected)

    def _process_result(self, result: object) -> None:
        # Strawberry checks a runtime Protocol here, ~10 µs per result: every live update pays it
        errors = getattr(result, "errors", None)
        if errors:
            cast(_WithErrors, result).errors = self._process_errors(errors)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        for index, error in enumerate(errors):
            if isinstance(error.original_error, StoreUnavailable):
                # A store down for a moment (a restart) is worth a retry, not a bug report: say so.
                store = error.original_error.store
                errors[index] = GraphQLError(
                    f"{store} is unavailable; retry later", nodes=error.nodes, path=error.path,
                    extensions=unavailable("").extensions,
                )  # fmt: skip
                log.warning("%s unavailable in %s: %s", store, error.path, error.original_error)
                continue
            if error.path is None and not (error.extensions or {}).get("code"):
                # before execution: the document or its variables are wrong (graphql-core gives no code)
                code = "GRAPHQL_PARSE_FAILED" if isinstance(error, GraphQLSyntaxError) else "GRAPHQL_VALIDATION_FAILED"
                error.extensions = {**(error.extensions or {}), "code": code}
        return super()._process_errors(errors)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        log.error("unexpected error in %s", error.path, exc_info=error.original_error)
        return GraphQLError(
            f"internal error; quote request id {request_id.get()} when reporting it",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id.get()},
        )
