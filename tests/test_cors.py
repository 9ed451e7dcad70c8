"""Browser access through a real server process: CORS preflights and cross-origin requests as a browser
sends them, the `vai_token` cookie on REST, GraphQL and websockets (and its CSRF rule), and the GraphiQL
and /docs pages opening without a key with nothing loaded from another host."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.conftest import Tenant
from tests.process import ServerProcess
from tests.ws_client import PROTOCOL

KEY = "th_cors_test_key"
ALLOWED = "http://app.example:5173"
OTHER = "https://evil.example"
COUNT = "{ executions(first: 1) { totalCount } }"
AUDIT_EVENT = {"eventType": "cookie.write", "actorType": "user", "actorId": "u1", "resourceType": "doc",
               "resourceId": "d1", "payload": {}}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("cors") / "data", KEY,
                         {"TRACEHOUSE_CORS_ORIGINS": f"{ALLOWED}, http://other-allowed.example"})  # fmt: skip
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def _preflight(http: httpx.Client, origin: str, path: str = "/graphql") -> httpx.Response:
    return http.options(path, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-api-key",
    })  # fmt: skip


def test_preflight_from_an_allowed_origin_succeeds_without_a_key(http: httpx.Client) -> None:
    for path in ("/graphql", "/api/v1/events"):
        response = _preflight(http, ALLOWED, path)
        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert response.headers["access-control-allow-credentials"] == "true"
        allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
        assert {"x-api-key", "authorization", "content-type"} <= allowed
        assert "POST" in response.headers["access-control-allow-methods"]


def test_preflight_from_another_origin_gets_no_cors_headers(http: httpx.Client) -> None:
    response = _preflight(http, OTHER)
    assert response.status_code >= 400
    assert not any(name.startswith("access-control-") for name in response.headers)


def test_cross_origin_request_from_an_allowed_origin_can_be_read(http: httpx.Client) -> None:
    response = http.post("/graphql", json={"query": COUNT}, headers={"Origin": ALLOWED, "X-API-Key": KEY})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["executions"]["totalCount"] >= 0
    assert response.headers["access-control-allow-origin"] == ALLOWED
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"x-request-id", "retry-after"} <= exposed
    # an error answer is readable too, so the page can tell a bad key from a network failure
    denied = http.post("/graphql", json={"query": COUNT}, headers={"Origin": ALLOWED, "X-API-Key": "th_wrong"})
    assert denied.status_code == 401
    assert denied.headers["access-control-allow-origin"] == ALLOWED


def test_cross_origin_request_from_another_origin_gets_no_cors_headers(http: httpx.Client) -> None:
    response = http.post("/graphql", json={"query": COUNT}, headers={"Origin": OTHER, "X-API-Key": KEY})
    assert "access-control-allow-origin" not in response.headers


def test_cookie_authenticates_rest_and_graphql_reads(http: httpx.Client) -> None:
    cookie = {"Cookie": f"theme=dark; vai_token={KEY}"}
    events = http.get("/api/v1/events", headers=cookie)
    assert events.status_code == 200, events.text
    assert "events" in events.json()
    graphql = http.post("/graphql", json={"query": COUNT}, headers=cookie)
    assert graphql.status_code == 200, graphql.text
    assert "errors" not in graphql.json()
    assert http.get("/api/v1/events", headers={"Cookie": "vai_token=th_unknown"}).status_code == 401
    assert http.get("/api/v1/events").status_code == 401


def test_cookie_authenticated_writes_must_come_from_a_trusted_origin_as_json(
    http: httpx.Client, server: ServerProcess
) -> None:
    cookie = f"vai_token={KEY}"
    body = json.dumps(AUDIT_EVENT)

    def write(origin: str | None, content_type: str, path: str = "/api/v1/events") -> httpx.Response:
        headers = {"Cookie": cookie, "Content-Type": content_type}
        if origin:
            headers["Origin"] = origin
        return http.post(path, content=body, headers=headers)

    # what a cross-site form or fetch could send: refused, nothing stored
    assert write(OTHER, "application/json").status_code == 403
    assert write(OTHER, "text/plain").status_code == 403
    assert write(None, "text/plain").status_code == 415
    assert write(server.url, "application/x-www-form-urlencoded").status_code == 415
    form_graphql = write(OTHER, "application/json", "/graphql")
    assert form_graphql.status_code == 403
    # the server's own pages and the configured origins may write with the cookie
    for origin in (server.url, ALLOWED, None):
        response = write(origin, "application/json")
        assert response.status_code == 200, response.text
    stored = http.get("/api/v1/events", params={"event_type": "cookie.write"}, headers={"Cookie": cookie}).json()
    assert stored["total"] == 3
    # a key in a header is not ambient: no origin rule for it
    keyed = http.post("/api/v1/events", content=body, headers={"X-API-Key": KEY, "Origin": OTHER,
                                                                 "Content-Type": "application/json"})  # fmt: skip
    assert keyed.status_code == 200, keyed.text


async def _ws_ack(server: ServerProcess, headers: dict[str, str], payload: dict[str, str]) -> dict[str, object]:
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL], additional_headers=headers) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if ack["type"] != "connection_ack":
            return ack
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription { events(filter: {names: [\"never.sent\"]}) { name } }"}}))  # fmt: skip
        await ws.send(json.dumps({"type": "ping"}))
        pong = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert pong["type"] == "pong", pong
        return ack


async def test_websocket_authenticates_from_the_cookie_or_connection_init(server: ServerProcess) -> None:
    assert (await _ws_ack(server, {"Cookie": f"vai_token={KEY}"}, {}))["type"] == "connection_ack"
    same_origin = {"Cookie": f"vai_token={KEY}", "Origin": server.url}
    assert (await _ws_ack(server, same_origin, {}))["type"] == "connection_ack"
    allowed = {"Cookie": f"vai_token={KEY}", "Origin": ALLOWED}
    assert (await _ws_ack(server, allowed, {}))["type"] == "connection_ack"
    assert (await _ws_ack(server, {}, {"apiKey": KEY}))["type"] == "connection_ack"
    with pytest.raises(websockets.exceptions.ConnectionClosed):
        await _ws_ack(server, {"Cookie": "vai_token=th_unknown"}, {})


async def test_websocket_from_another_origin_is_refused_even_with_the_cookie(server: ServerProcess) -> None:
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await _ws_ack(server, {"Cookie": f"vai_token={KEY}", "Origin": OTHER}, {})
    assert refused.value.response.status_code == 403


THIRD_PARTY = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


def test_docs_and_graphiql_open_without_a_key_and_load_only_from_this_server(http: httpx.Client) -> None:
    pages = {
        "/docs": http.get("/docs"),
        "/graphql": http.get("/graphql", headers={"Accept": "text/html"}),
    }
    for path, page in pages.items():
        assert page.status_code == 200, (path, page.text)
        assert page.headers["content-type"].startswith("text/html")
        assert not re.search(r"https?://", page.text), f"{path} names another host"
        assert not THIRD_PARTY.search(page.text)
        assets = re.findall(r"""(?:src|href)="([^"]+)""", page.text)
        assert assets, path
        for asset in assets:
            loaded = http.get(httpx.URL(f"{http.base_url}{path}").join(asset))
            assert loaded.status_code == 200, (path, asset)
            assert not THIRD_PARTY.search(loaded.text), f"{asset} loads from another host"
    assert "SwaggerUIBundle" in pages["/docs"].text
    assert "GraphiQL.createFetcher" in pages["/graphql"].text
    openapi = http.get("/openapi.json")
    assert openapi.status_code == 200
    schemes = openapi.json()["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    # the pages carry no data: the API itself still needs a key
    assert http.post("/graphql", json={"query": COUNT}).status_code == 401


async def test_no_cors_headers_without_configured_origins(anon: httpx.AsyncClient, tenant: Tenant) -> None:
    preflight = await anon.options("/graphql", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    response = await tenant.http.post("/graphql", json={"query": COUNT}, headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
