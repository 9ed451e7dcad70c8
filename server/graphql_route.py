"""`/graphql`: the Strawberry router with GraphiQL, its context built from the authenticated key."""

from __future__ import annotations

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


def graphql_router() -> GraphQLRouter:
    # Subscriptions arrive with the live issue; until then no websocket protocol is offered.
    return GraphQLRouter(schema, context_getter=_context, graphql_ide="graphiql", subscription_protocols=())
