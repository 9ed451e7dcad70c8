"""Strawberry's ParserCache, minus one flaw: it parses inside the `parsing()` hook, where a syntax error
escapes as an exception (over websockets the operation then just completed, without a word) instead of
becoming the operation's error. A document that does not parse is left to the schema, which parses it
again inside its own error handling."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError

from adapters.strawberry_internals import ParserCache


class SyntaxSafeParserCache(ParserCache):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        except GraphQLError:
            pass  # not cached: the schema's own parse reports it as a GraphQL error
        yield
