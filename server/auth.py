"""API-key authentication for every HTTP route but the probes (/healthz, /readyz), /metrics (its own token)
and the browser pages (GraphiQL, /docs, the viewer and their static assets); key scopes, per-key rate limits.

Keys come as `X-API-Key: KEY`, `Authorization: Bearer KEY` or, from a browser, the `vai_token` cookie.
A cookie rides along on requests other sites make, so a cookie-authenticated write (any method but
GET/HEAD/OPTIONS) must come from a trusted origin (the server's own or TRACEHOUSE_CORS_ORIGINS: 403
otherwise) with a content type no HTML form can send (415 otherwise). Resolved keys are cached for a
few seconds so a request does not cost a Postgres round trip; a revoked key stops working within that
time.
"""

from __future__ import annotations

import math
import time
from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from graph.context import Principal, StoreUnavailable
from graph.scopes import allows
from server.cors import simple_content_type, trusted_origin
from server.state import AppState
from server.web_routes import PAGE_PATHS, PAGE_PREFIXES

# Probes have no key; /metrics checks its own token (TRACEHOUSE_METRICS_TOKEN) in server/health_routes.py.
# The viewer's page and assets (server/web_routes.py) carry no data: it signs in through the API.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/docs", "/openapi.json", *PAGE_PATHS})
OPEN_PREFIXES = ("/static/", *PAGE_PREFIXES)
# REST reads that take their query as a POST body (HoneyHive's event export).
READ_POSTS = frozenset({"/v1/events/export"})
COOKIE = "vai_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MISSING_KEY = f"missing API key: send X-API-Key: KEY, Authorization: Bearer KEY or a {COOKIE} cookie"


def key_from_headers(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key from the headers, else from the `vai_token` cookie."""
    return _key_from_key_headers(headers) or key_from_cookie(headers)


def key_from_cookie(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"cookie":
            for pair in value.decode("latin-1").split(";"):
                cookie, _, token = pair.strip().partition("=")
                if cookie == COOKIE and token.strip().strip('"'):
                    return token.strip().strip('"')
    return None


def _key_from_key_headers(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        lname = name.lower()
        if lname == b"x-api-key" and value.strip():
            return value.decode("latin-1").strip()
        if lname == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            if not token and scheme:  # HoneyHive clients may send the bare key
                return scheme
    return None


async def resolve_key(state: AppState, key: str, refresh: bool = False) -> Principal | None:
    now = time.monotonic()
    cached = state.key_cache.get(key)
    if cached is not None and cached[0] > now and not refresh:
        return cached[1]
    principal = await state.find_principal(key)
    ttl = state.settings.key_cache_seconds if principal is not None else 1.0
    if len(state.key_cache) > 10_000:
        state.key_cache.clear()
    state.key_cache[key] = (now + ttl, principal)
    return principal


def _is_open(scope: Scope) -> bool:
    path: str = scope["path"]
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES) or _is_graphiql_page(scope)


def _is_graphiql_page(scope: Scope) -> bool:
    """GET /graphql from a browser with no query: the IDE page itself, which carries no data. The query
    string is decoded the way the GraphQL route decodes it (`%71uery=` is a query too); the route also
    refuses to execute anything without a principal (graph/scopes.py)."""
    if scope["path"] != "/graphql" or scope["method"] != "GET":
        return False
    if "query" in QueryParams(scope.get("query_string", b"")):
        return False
    return any(n == b"accept" and b"text/html" in v for n, v in scope["headers"])


def _needed_scope(scope: Scope) -> str | None:
    """REST: reads need `read`, writes `ingest`. GraphQL checks its operation itself."""
    if scope["path"] == "/graphql":
        return None
    return "read" if scope["method"] in ("GET", "HEAD") or scope["path"] in READ_POSTS else "ingest"


def _csrf_unsafe(scope: Scope) -> bool:
    """A GraphQL POST must be JSON: a form or text/plain body is what a cross-site form could send."""
    if scope["path"] != "/graphql" or scope["method"] != "POST":
        return False
    content_type = next((v for n, v in scope["headers"] if n == b"content-type"), b"").split(b";")[0].strip()
    return content_type not in (b"application/json", b"application/graphql-response+json")


def _cookie_write_refusal(scope: Scope) -> tuple[int, str] | None:
    """Why a cookie-authenticated write is refused (CSRF), or None: it must come from a trusted origin,
    with a content type an HTML form cannot send (so another origin needs a preflight CORS allows)."""
    if not trusted_origin(scope, scope["app"].state.cors_origins):
        return 403, f"a write authenticated by the {COOKIE} cookie must come from this server's or an allowed origin"
    if simple_content_type(scope):
        return 415, f"a write authenticated by the {COOKIE} cookie must not be a form or text/plain body"
    return None


class AuthMiddleware:
    """Key → principal (401), scope (403), per-key rate limit (429), and JSON-only GraphQL POSTs (415)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_open(scope):
            await self.app(scope, receive, send)
            return
        state: AppState = scope["app"].state.tracehouse
        key = _key_from_key_headers(scope["headers"])
        if key is None:
            key = key_from_cookie(scope["headers"])
            if key is not None and scope["method"] not in SAFE_METHODS:
                refusal = _cookie_write_refusal(scope)
                if refusal is not None:
                    await _deny(send, *refusal)
                    return
        if key is None:
            await _deny(send, 401, MISSING_KEY)
            return
        try:
            principal = await resolve_key(state, key)
        except StoreUnavailable:
            await _deny(send, 503, "postgres is unavailable; retry later", retry_after=5)
            return
        if principal is None:
            await _deny(send, 401, "unknown or revoked API key")
            return
        needed = _needed_scope(scope)
        if needed is not None and not allows(principal.scopes, needed):
            await _deny(send, 403, f"this API key lacks the `{needed}` scope (it has: {', '.join(principal.scopes)})")
            return
        wait = state.rate_limiter.take(principal.key_id)
        if wait > 0:
            await _deny(send, 429, "rate limit exceeded for this API key", retry_after=wait)
            return
        if _csrf_unsafe(scope):
            await _deny(send, 415, "GraphQL POST bodies must be application/json")
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


async def _deny(send: Send, status: int, message: str, retry_after: float | None = None) -> None:
    body = orjson.dumps({"detail": message})
    headers: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    if retry_after is not None:
        headers.append((b"retry-after", str(max(1, math.ceil(retry_after))).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
