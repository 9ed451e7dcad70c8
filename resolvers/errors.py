"""GraphQL errors clients can act on: each carries `extensions.code`."""

from __future__ import annotations

from graphql import GraphQLError


def bad_input(message: str, field: str | None = None) -> GraphQLError:
    extensions = {"code": "BAD_USER_INPUT"}
    if field:
        extensions["field"] = field
    return GraphQLError(message, extensions=extensions)


def unavailable(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "SERVICE_UNAVAILABLE", "retryAfter": 5})
