"""`/graphql`: the Strawberry router with GraphiQL, its context built from the authenticated key."""

from __future__ import annotations

import orjson
from fastapi import Request
from strawberry.fastapi import GraphQLRouter

from graph.context import Context, Stores
from graph.schema import schema
from server.request_body import app_state, principal


async def _context(request: Request) -> Context | None:
    if "principal" not in request.scope.get("state", {}):
        return None  # only the GraphiQL page itself gets here without a key; it executes nothing
    state = app_state(request)
    stores = Stores(state.ch, state.pg, state.writer, state.settings.max_batch_items)
    return Context(stores, principal(request))


class Router(GraphQLRouter):
    def encode_json(self, data: object) -> bytes:
        # A 10,000-span trace is ~8 MB of JSON: the standard library would spend >100 ms on it.
        return orjson.dumps(data)


def graphql_router() -> GraphQLRouter:
    # Subscriptions arrive with the live issue; until then no websocket protocol is offered.
    return Router(schema, context_getter=_context, graphql_ide="graphiql", subscription_protocols=())
