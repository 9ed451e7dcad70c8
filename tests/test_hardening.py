"""Abuse limits, production switches, masked errors, scopes, revocation, rate limits, observability."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from server.state import AppState
from storage.errors import StoreUnavailable
from storage.postgres import keys
from storage.postgres.outage import outage
from tests.conftest import Tenant


async def _client(app: Any, key: str | None) -> httpx.AsyncClient:
    headers = {"X-API-Key": key} if key else {}
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)


@pytest.fixture(scope="module")
async def prod(settings: Settings, app: Any) -> AsyncIterator[tuple[Any, str]]:
    """A second app on the same stores, configured for production, with a tight rate limit."""
    production = settings.model_copy(update={"production": True, "rate_limit_per_second": 1.0})
    prod_app = create_app(production)
    async with prod_app.router.lifespan_context(prod_app):
        key = await keys.create_key(prod_app.state.tracehouse.pg, "prod-tenant")
        yield prod_app, key


async def _errors(tenant: Tenant, query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    body = await tenant.gql(query, variables)
    assert body.get("data") is None, body
    return body["errors"]


async def test_depth_aliases_tokens_and_cost_limits(tenant: Tenant) -> None:
    deep = '{ execution(id: "x") { rootSpans ' + "{ children " * 15 + "{ id }" + " }" * 15 + " } }"
    assert "depth" in (await _errors(tenant, deep))[0]["message"]
    aliases = "{ " + " ".join(f'a{i}: event(id: "x") {{ id }}' for i in range(31)) + " }"
    assert "aliases" in (await _errors(tenant, aliases))[0]["message"].lower()
    tokens = "{ events { edges { node { " + "id " * 20_001 + "} } } }"
    assert "token" in (await _errors(tenant, tokens))[0]["message"].lower()
    costly = "{ executions(first: 50) { edges { node { spans(first: 10000) { edges { node { id name } } } } } } }"
    error = (await _errors(tenant, costly))[0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY" and error["extensions"]["cost"] > 1_000_000
    by_variable = (
        "query($n: Int) { executions(first: 50) { edges { node { spans(first: $n) { edges { node { id } } } } } } }"
    )
    assert (await _errors(tenant, by_variable, {"n": 10_000}))[0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "errors" not in await tenant.gql(by_variable, {"n": 10})


async def test_what_skip_and_include_leave_out_costs_nothing(tenant: Tenant) -> None:
    """The executor never resolves a selection `@skip(if: true)` or `@include(if: false)` leaves out, so the cost
    limit does not count it; the same selection kept is refused as before."""
    spans = "spans(first: 10000) { edges { node { id name } } }"
    for directive, refused in (("@skip(if: true)", False), ("@include(if: false)", False),
                               ("@skip(if: false)", True), ("@include(if: true)", True), ("", True)):  # fmt: skip
        field = spans.replace(" {", f" {directive} {{", 1)
        fragment = f"... on Execution {directive} {{ {spans} }}"
        for inner in (field, fragment):
            body = await tenant.gql(f"{{ executions(first: 50) {{ edges {{ node {{ id {inner} }} }} }} }}")
            code = body.get("errors", [{}])[0].get("extensions", {}).get("code")
            assert (code == "QUERY_TOO_COSTLY") is refused, (inner, body.get("errors"))
    by_variable = ("query($big: Boolean!) { executions(first: 50) { edges { node { id "
                   f"{spans.replace(' {', ' @include(if: $big) {', 1)} }} }} }} }}")  # fmt: skip
    assert "errors" not in await tenant.gql(by_variable, {"big": False})
    assert (await _errors(tenant, by_variable, {"big": True}))[0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


async def test_a_document_checked_once_is_still_costed_on_every_request(tenant: Tenant) -> None:
    """A document's shape and graphql-core's rules are checked once per parsed document (graph/bounded_validation.py);
    its cost depends on the variables, so the same document is refused or answered request by request, and a
    document beyond the shape limits is refused every time, never remembered as checked."""
    from graph import bounded_validation

    paged = "query($n: Int) { executions(first: 50) { edges { node { spans(first: $n) { edges { node { id } } } } } } }"
    assert "errors" not in await tenant.gql(paged, {"n": 10})
    checked = len(bounded_validation._CHECKED)
    for n, refused in ((10_000, True), (10, False), (20_001, True), (1, False)):
        body = await tenant.gql(paged, {"n": n})
        assert (body.get("errors", [{}])[0].get("extensions", {}).get("code") == "QUERY_TOO_COSTLY") is refused, n
    assert (await _errors(tenant, paged, {"n": "many"}))[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert len(bounded_validation._CHECKED) == checked  # the one document, checked once
    deep = '{ execution(id: "x") { rootSpans ' + "{ children " * 15 + "{ id }" + " }" * 15 + " } }"
    for _ in range(2):
        assert "depth" in (await _errors(tenant, deep))[0]["message"]


async def test_documents_that_do_not_parse_or_validate_get_a_code(tenant: Tenant) -> None:
    cases = [
        ("query {", None, "GRAPHQL_PARSE_FAILED"),
        ("{ events { edges { node { " + "id " * 20_001 + "} } } }", None, "GRAPHQL_PARSE_FAILED"),  # tokens
        ("{ noSuchField }", None, "GRAPHQL_VALIDATION_FAILED"),
        ('{ execution(id: "x") { rootSpans ' + "{ children " * 15 + "{ id }" + " }" * 15 + " } }", None,
         "GRAPHQL_VALIDATION_FAILED"),  # depth
        ("query($id: ID!) { execution(id: $id) { id } }", {}, "GRAPHQL_VALIDATION_FAILED"),  # variable missing
        ("query($n: Int) { executions(first: $n) { totalCount } }", {"n": "many"}, "GRAPHQL_VALIDATION_FAILED"),
    ]  # fmt: skip
    for document, variables, code in cases:
        errors = await _errors(tenant, document, variables)
        assert errors[0]["extensions"]["code"] == code, (document[:60], errors)


async def test_development_defaults_have_introspection_and_graphiql(tenant: Tenant, anon: httpx.AsyncClient) -> None:
    assert (await tenant.gql_data("{ __schema { queryType { name } } }"))["__schema"]["queryType"]["name"] == "Query"
    assert (await anon.get("/graphql", headers={"Accept": "text/html"})).status_code == 200


async def test_production_switch_turns_dev_tools_off(prod: tuple[Any, str]) -> None:
    app, key = prod
    async with await _client(app, key) as client:
        body = (await client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})).json()
        assert body["errors"] and "introspection" in body["errors"][0]["message"].lower()
        body = (await client.post("/graphql", json={"query": "{ evnts { totalCount } }"})).json()
        assert body["errors"] and "Did you mean" not in body["errors"][0]["message"]
    async with await _client(app, None) as anon:
        assert (await anon.get("/graphql", headers={"Accept": "text/html"})).status_code in (401, 404)


async def test_rate_limit_answers_429_with_retry_after(prod: tuple[Any, str]) -> None:
    app, key = prod
    async with await _client(app, key) as client:
        # Earlier tests of the module may have emptied the bucket (1 request/s, bursts of 2): until a token is back.
        deadline = time.monotonic() + 10
        while (first := await client.get("/api/v1/events", params={"limit": 1})).status_code != 200:
            assert first.status_code == 429 and time.monotonic() < deadline, first.text
            await asyncio.sleep(0.2)
        statuses = [(await client.get("/api/v1/events", params={"limit": 1})).status_code for _ in range(20)]
        assert 429 in statuses
        limited = await client.get("/api/v1/events")
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


async def test_no_batching_no_get_mutations_no_form_posts(tenant: Tenant) -> None:
    batch = [{"query": "{ events { totalCount } }"}, {"query": "{ events { totalCount } }"}]
    assert (await tenant.http.post("/graphql", json=batch)).status_code == 400
    mutation = 'mutation { ingestEvents(events: [{name: "x"}]) { count } }'
    assert (await tenant.http.get("/graphql", params={"query": mutation})).status_code in (400, 405)
    assert (await tenant.http.get("/graphql", params={"query": "{ events { totalCount } }"})).status_code == 200
    form = await tenant.http.post("/graphql", data={"query": mutation})
    assert form.status_code == 415
    body = '{"query": "{ events { totalCount } }"}'
    plain = await tenant.http.post("/graphql", content=body, headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415
    assert (await tenant.gql_data(COUNT))["events"]["totalCount"] == 0


COUNT = "{ events { totalCount } }"
# Only the spans: the execution's page of spans is read first (query_converted), before any other read.
SPANS = "query($id: ID!) { execution(id: $id) { spans { edges { node { id name } } } } }"
TRACE = [{"name": "chain.started", "executionId": "down-trace", "spanId": "r", "payload": {"name": "root"}},
         {"name": "chain.completed", "executionId": "down-trace", "spanId": "r"}]  # fmt: skip


async def _write_trace(tenant: Tenant) -> None:
    """A stored execution whose spans read normally while ClickHouse is up."""
    await tenant.gql_data("mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }", {"e": TRACE})
    spans = (await tenant.gql_data(SPANS, {"id": "down-trace"}))["execution"]["spans"]["edges"]
    assert [e["node"]["name"] for e in spans] == ["root"]


class Exploding:
    """A fault-injecting ClickHouse: every read (rows, or rows converted block by block, as span reads are)
    raises an unexpected error with a secret in its text; `reads` names the reads tried."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.reads: list[str] = []

    def _fail(self) -> Exception:
        return RuntimeError("secret internals: password=hunter2")

    async def query(self, *args: Any, **kwargs: Any) -> Any:
        self.reads.append("query")
        raise self._fail()

    async def query_converted(self, *args: Any, **kwargs: Any) -> Any:
        self.reads.append("query_converted")
        raise self._fail()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def exploding(state: AppState) -> Iterator[Exploding]:
    real = state.ch
    fake = Exploding(real)
    state.ch = fake  # type: ignore[assignment]
    try:
        yield fake
    finally:
        state.ch = real


async def test_unexpected_errors_are_masked_with_a_request_id(tenant: Tenant, app: Any, exploding: Exploding) -> None:
    async with await _client(app, tenant.key) as client:
        response = await client.post("/graphql", json={"query": COUNT}, headers={"X-Request-ID": "req-123"})
        assert response.headers["x-request-id"] == "req-123"
        error = response.json()["errors"][0]
        assert "hunter2" not in response.text and "Traceback" not in response.text
        assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-123"}
        rest = await client.get("/api/v1/events")
        assert rest.status_code == 500 and "hunter2" not in rest.text
        assert rest.json()["requestId"] == rest.headers["x-request-id"]


class Unavailable(Exploding):
    """A ClickHouse that is down: every read raises StoreUnavailable, its cause naming a secret."""

    def _fail(self) -> Exception:
        return StoreUnavailable("clickhouse", ConnectionRefusedError("secret internals: password=hunter2"))


async def test_a_store_outage_is_service_unavailable_not_internal(tenant: Tenant, app: Any, state: AppState) -> None:
    real = state.ch
    state.ch = Unavailable(real)  # type: ignore[assignment]
    try:
        async with await _client(app, tenant.key) as client:
            body = (await client.post("/graphql", json={"query": COUNT})).json()
    finally:
        state.ch = real
    assert body["data"] is None and "hunter2" not in str(body)
    [error] = body["errors"]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE", "retryAfter": 5}
    assert error["message"] == "clickhouse is unavailable; retry later" and error["path"] == ["events"]


@pytest.mark.parametrize(
    ("fake_type", "code"), [(Exploding, "INTERNAL_SERVER_ERROR"), (Unavailable, "SERVICE_UNAVAILABLE")]
)
async def test_a_span_read_that_fails_answers_as_any_read(
    tenant: Tenant, app: Any, state: AppState, fake_type: type[Exploding], code: str
) -> None:
    """Span reads go through query_converted (rows converted block by block): an unexpected error there is
    masked and an outage is SERVICE_UNAVAILABLE, as in any other read."""
    await _write_trace(tenant)
    real = state.ch
    state.ch = fake = fake_type(real)  # type: ignore[assignment]
    try:
        async with await _client(app, tenant.key) as client:
            response = await client.post("/graphql", json={"query": SPANS, "variables": {"id": "down-trace"}})
    finally:
        state.ch = real
    assert fake.reads[0] == "query_converted"  # the span read, not some other read first
    body = response.json()
    assert body["data"] == {"execution": None} and "hunter2" not in response.text and "Traceback" not in response.text
    [error] = body["errors"]
    assert error["extensions"]["code"] == code and error["path"] == ["execution"]
    if fake_type is Unavailable:
        assert error["extensions"]["retryAfter"] == 5 and error["message"] == "clickhouse is unavailable; retry later"


async def test_key_scopes(app: Any, state: AppState) -> None:
    ingest_key = await keys.create_key(state.pg, "scoped", ("ingest",))
    read_key = await keys.create_key(state.pg, "scoped", ("read",))
    async with await _client(app, ingest_key) as writer, await _client(app, read_key) as reader:
        mutation = {"query": 'mutation { ingestEvents(events: [{name: "scoped.event"}]) { count } }'}
        assert (await writer.post("/graphql", json=mutation)).json()["data"]["ingestEvents"]["count"] == 1
        assert (await writer.post("/api/v1/events", json={"eventType": "x"})).status_code == 200
        denied = (await writer.post("/graphql", json={"query": COUNT})).json()["errors"][0]
        assert denied["extensions"]["code"] == "FORBIDDEN" and "read" in denied["message"]
        assert (await writer.get("/api/v1/events")).status_code == 403
        assert (await reader.post("/graphql", json={"query": COUNT})).json()["data"]["events"]["totalCount"] == 2
        assert (await reader.post("/graphql", json=mutation)).json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert (await reader.post("/api/v1/events", json={"eventType": "x"})).status_code == 403
        assert (await reader.get("/metrics")).status_code == 403


async def test_revoked_key_stops_within_seconds(app: Any, state: AppState) -> None:
    key = await keys.create_key(state.pg, "revocable")
    async with await _client(app, key) as client:
        assert (await client.get("/api/v1/events")).status_code == 200
        assert await keys.revoke_key(state.pg, key[:10]) == 1
        for _ in range(40):
            if (await client.get("/api/v1/events")).status_code == 401:
                break
            await asyncio.sleep(0.25)
        else:
            pytest.fail("a revoked key still worked after 10 s")
    listed = await keys.list_keys(state.pg, "revocable")
    assert listed[0].revoked_at is not None and key not in repr(listed)


def test_postgres_outages_are_told_from_refused_rows() -> None:
    torn = asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in progress")
    for down in (torn, ConnectionRefusedError(111, "refused"), TimeoutError(), asyncpg.CannotConnectNowError("")):
        assert isinstance(outage(down), StoreUnavailable), down
    for refused in (asyncpg.UniqueViolationError(""), asyncpg.DataError(""), RuntimeError("a defect")):
        assert outage(refused) is None, refused
