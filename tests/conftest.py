"""Real stores for the whole test session: one chDB directory (chDB allows one engine path per process)
and one Postgres (embedded, or TRACEHOUSE_DATABASE_URL when given). Tests isolate by tenant."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from server.state import AppState
from storage.postgres import keys
from storage.postgres.embedded import EmbeddedPostgres
from tests.browser import chromium


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tracehouse-test-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def database_url(data_dir: Path) -> Iterator[str]:
    given = os.environ.get("TRACEHOUSE_DATABASE_URL")
    if given:
        yield given
        return
    embedded = EmbeddedPostgres(data_dir / "postgres")
    dsn = embedded.start()
    yield dsn
    embedded.stop()


@pytest.fixture(scope="session")
def settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        clickhouse_url=f"chdb://{data_dir / 'clickhouse'}",
        database_url=database_url,
        bootstrap_api_key="th_bootstrap_test_key",
        max_body_bytes=1_000_000,
        max_batch_items=2_000,
        # One chDB handle: queries complete in the order they were issued, so the way dataloader batches
        # fall is the same on every run (the query-count tests compare exact counts; with parallel
        # handles two loads of one kind may land one tick apart and make two batches).
        clickhouse_pool_size=1,
        # The periodic retention check reads both stores: inside a counted read it would count toward it.
        retention_check_seconds=86_400,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def state(app: Any) -> AppState:
    return app.state.tracehouse


class Tenant:
    """A fresh tenant with its own key and an HTTP client that sends it."""

    def __init__(self, name: str, key: str, client: httpx.AsyncClient) -> None:
        self.name = name
        self.key = key
        self.http = client

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        return response.json()

    async def gql_data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.gql(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]


async def make_tenant(app: Any, state: AppState) -> AsyncIterator[Tenant]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    key = await keys.create_key(state.pg, name)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", headers={"X-API-Key": key}) as c:
        yield Tenant(name, key, c)


@pytest.fixture
async def tenant(app: Any, state: AppState) -> AsyncIterator[Tenant]:
    async for t in make_tenant(app, state):
        yield t


@pytest.fixture
async def other_tenant(app: Any, state: AppState) -> AsyncIterator[Tenant]:
    async for t in make_tenant(app, state):
        yield t


@pytest.fixture
async def anon(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright (tests/browser.py), one per browser test module; skips loudly
    when either is missing."""
    with chromium() as launched:
        yield launched
