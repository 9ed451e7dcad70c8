"""`/graphql`: the Strawberry router with GraphiQL and graphql-transport-ws subscriptions.

HTTP requests arrive authenticated by the middleware; a websocket authenticates in `connection_init`
with `{"apiKey": KEY}` or `{"Authorization": "Bearer KEY"}`, else by a key header or the `vai_token`
cookie on the upgrade request. Browsers send cookies on cross-site websocket handshakes too, so only
pages on this server's origin or TRACEHOUSE_CORS_ORIGINS may open one (Strawberry's origin check).

GraphiQL is our own page (server/static/graphiql.html) over assets shipped in the package. Responses
follow the GraphQL-over-HTTP spec: `Accept: application/graphql-response+json` gets that media type,
and a request that never executed (parse, validation or variable errors) gets 400 without `data`;
`application/json` clients keep 200 with `"data": null` (server/graphql_http.py).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from fastapi import Request, Response, WebSocket
from fastapi.responses import HTMLResponse, StreamingResponse
from starlette.requests import HTTPConnection
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from graph.context import Context, Stores, StoreUnavailable
from graph.limits import GraphQLLimits
from graph.schema import build_schema
from server.auth import key_from_headers, resolve_key
from server.graphql_http import mark_request_error, negotiate_media_type
from server.json_body import STREAM_MIN_BYTES, encode_pieces, send_pieces
from server.settings import Settings
from server.shared_streams import SharedStreams, SharingTransportWSHandler
from server.state import AppState

GRAPHIQL_PAGE = (Path(__file__).parent / "static" / "graphiql.html").read_text()


def _stores(state: AppState) -> Stores:
    async def key_is_valid(key: str) -> bool:
        try:
            return await resolve_key(state, key) is not None
        except StoreUnavailable:
            # Postgres is down for a moment (restarting): keep open subscriptions; the key is checked again.
            return True

    return Stores(state.ch, state.pg, state.writer, state.settings.max_batch_items, state.bus, key_is_valid)


async def _context(connection: HTTPConnection) -> Context | None:
    state: AppState = connection.app.state.tracehouse
    if connection.scope["type"] == "websocket":
        return Context(_stores(state), None)  # authenticated by on_ws_connect
    principal = connection.scope.get("state", {}).get("principal")
    if principal is None:
        return None  # only the GraphiQL page itself gets here without a key; it executes nothing
    context = Context(_stores(state), principal)
    context.encode_items_early = True  # the result is encoded by create_response, nothing reads it before
    return context


def _key_from_params(params: Any, context: Context) -> str | None:
    if isinstance(params, dict):
        for name in ("apiKey", "api_key", "X-API-Key", "x-api-key"):
            if isinstance(params.get(name), str) and params[name]:
                return params[name]
        for name in ("Authorization", "authorization"):
            value = params.get(name)
            if isinstance(value, str) and value:
                scheme, _, token = value.partition(" ")
                return token.strip() if scheme.lower() == "bearer" and token else value
    request = context.request
    return key_from_headers(request.scope["headers"]) if request is not None else None


class Router(GraphQLRouter[Context, Any]):
    graphql_transport_ws_handler_class = SharingTransportWSHandler

    def __init__(self, *args: Any, subscriber_queue_size: int, subscriber_queue_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shared_streams = SharedStreams(subscriber_queue_size, subscriber_queue_bytes)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(GRAPHIQL_PAGE)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        return mark_request_error(request, await super().process_result(request, result))

    async def run(  # type: ignore[override]  # Strawberry declares it as overloads per request kind
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        response = await super().run(request, context, root_value)
        if isinstance(response, Response) and isinstance(request, Request):
            negotiate_media_type(request, response)
        return response

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        # HTTP bodies go out as orjson's bytes: the text encode_json returns (websocket frames need text)
        # would cost a decode and Starlette's encode back, two more copies of a 44 MB 50k-span body. A big
        # body goes out in pieces, with its length (server/json_body.py).
        pieces = encode_pieces(response_data)
        size = sum(len(p) for p in pieces)
        status = sub_response.status_code or 200
        response: Response
        if size < STREAM_MIN_BYTES:
            response = Response(b"".join(pieces), media_type="application/json", status_code=status)
        else:
            response = StreamingResponse(
                send_pieces(pieces), media_type="application/json", status_code=status,
                headers={"content-length": str(size)},
            )  # fmt: skip
        response.headers.raw.extend(sub_response.headers.raw)
        return response

    def encode_json(self, data: object) -> str:
        # A 10,000-span trace is ~8 MB of JSON: the standard library would spend >100 ms on it. Text, not
        # bytes: websocket messages must go out as text frames for browser clients.
        return orjson.dumps(data).decode()

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        key = _key_from_params(context.connection_params, context)
        assert context.request is not None  # Strawberry sets the websocket before connection_init
        state: AppState = context.request.app.state.tracehouse
        principal = await resolve_key(state, key) if key else None
        if principal is None:
            raise ConnectionRejectionError({"message": "missing or unknown API key"})
        context.authenticate(principal)
        context.api_key = key
        return await super().on_ws_connect(context)


def graphql_router(settings: Settings, cors_origins: frozenset[str] = frozenset()) -> Router:
    protocols = (
        (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL)
        if settings.graphql_ws_legacy
        else (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
    )
    limits = GraphQLLimits(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_tokens=settings.graphql_max_tokens,
        max_cost=settings.graphql_max_cost,
        dev_tools=settings.graphql_dev_tools,
    )
    return Router(
        build_schema(limits),
        context_getter=_context,
        graphql_ide="graphiql" if settings.graphql_dev_tools else None,
        subscription_protocols=protocols,
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        subscriber_queue_size=settings.subscriber_queue_size,
        subscriber_queue_bytes=settings.subscriber_queue_bytes,
        allowed_origins=sorted(cors_origins - {"*"}),  # `*` never lets another page use the cookie
    )
