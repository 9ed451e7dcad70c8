"""What the `executions` subscription's tests (tests/test_live_failed.py, tests/test_live_sessions.py) share:
the lifecycle events they write, the server they write them to, a websocket subscription read up to
markers, and a stream held still in process, so every file writes and reads the same way."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from resolvers import live_executions
from resolvers.live import StreamTap
from server.state import AppState
from storage.clickhouse.executions import ExecutionQuery, ExecutionRecord
from tests.conftest import Tenant
from tests.process import ServerProcess
from tests.ws_client import GraphQLWS

INGEST = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }"


def span(
    execution: str, span_id: str, phase: str, kind: str = "chain", parent: str | None = None, session: str = ""
) -> dict[str, Any]:
    """A lifecycle event of one span (`chain.started`, `chain.failed`, `session.completed`, …) as the
    `ingestEvents` mutation takes it, naming `session` (the `session.id` attribute) if given."""
    payload: dict[str, Any] = {"name": f"{kind} {span_id}"}
    if session:
        payload["attributes"] = {"session.id": session}
    event: dict[str, Any] = {"name": f"{kind}.{phase}", "executionId": execution, "spanId": span_id, "payload": payload}
    if parent:
        event["parentSpanId"] = parent
    return event


def served(tmp_path_factory: pytest.TempPathFactory, database_url: str, name: str, key: str) -> Iterator[ServerProcess]:
    """`tracehouse serve` on the shared Postgres, bootstrapped with `key`, for a module's fixture to yield from."""
    proc = ServerProcess(tmp_path_factory.mktemp(name) / "a", key, {"TRACEHOUSE_DATABASE_URL": database_url})
    proc.start()
    yield proc
    proc.stop()


def new_key(server: ServerProcess, tenant: str) -> str:
    """A key of `tenant` (created if new), made by the CLI a user would run against the server's stores."""
    command = [str(Path(sys.executable).parent / "tracehouse"), "keys", "create", "--tenant", tenant]
    out = subprocess.run(command, env=server.env, capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.strip().splitlines()[-1]


async def gql(server: ServerProcess, query: str, variables: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    """The data of a request that must succeed, sent with `key` (the server's bootstrap key if None)."""
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key or server.api_key}) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


async def write(server: ServerProcess, events: list[dict[str, Any]], key: str | None = None) -> None:
    await gql(server, INGEST, {"e": events}, key)


class ExecutionsWatcher:
    """One `executions` subscription over a websocket. `mark` writes a marker execution that matches the
    filter (`marker_events` of its id) and reads up to it: messages arrive in write order, so what came
    before it is everything the writes before it sent. `received` holds every update, markers too."""

    def __init__(
        self,
        server: ServerProcess,
        subscription: str,
        variables: dict[str, Any],
        marker_events: Callable[[str], list[dict[str, Any]]],
        key: str | None = None,
    ) -> None:
        self.server, self.key = server, key or server.api_key
        self.subscription, self.variables, self.marker_events = subscription, variables, marker_events
        self.ws = GraphQLWS(server.url)
        self.received: list[dict[str, Any]] = []

    async def start(self) -> None:
        """Subscribe, then write markers until one arrives: from then on the subscription sees every write."""
        await self.ws.connect({"apiKey": self.key})
        await self.ws.subscribe(self.subscription, self.variables)
        for _ in range(20):
            try:
                await self.mark()
                return
            except TimeoutError:
                continue
        raise AssertionError("the subscription never went live")

    async def mark(self) -> list[dict[str, Any]]:
        """The updates the writes since the last marker sent, in order (markers left out)."""
        marker = f"mark-{uuid.uuid4().hex[:8]}"
        await write(self.server, self.marker_events(marker), self.key)
        before: list[dict[str, Any]] = []
        while True:
            item = (await self.ws.data(10.0))["executions"]
            self.received.append(item)
            if item["id"] == marker:
                return before
            if not item["id"].startswith("mark-"):
                before.append(item)

    async def close(self) -> None:
        await self.ws.close()


async def _no_guard() -> None:
    return None


@contextlib.asynccontextmanager
async def held_stream(
    state: AppState, tenant: Tenant, query: ExecutionQuery, marker: list[dict[str, Any]]
) -> AsyncIterator[AsyncIterator[ExecutionRecord]]:
    """`tenant`'s `executions` stream for `query`, in process, live and paused at the yield of the first
    execution of `marker` (written once the stream is on the bus; it must match `query`): from then on the
    test decides when the stream reads, so the store can be ahead of it."""
    assert state.bus is not None
    principal = await state.find_principal(tenant.key)
    assert principal is not None
    tap = StreamTap()
    records = live_executions.executions(state.bus, state.ch, principal.tenant_id, query, lambda: None, _no_guard, tap)
    first = asyncio.ensure_future(anext(records))
    await tap.ready.wait()
    await tenant.gql_data(INGEST, {"e": marker})
    assert (await asyncio.wait_for(first, 30)).id == marker[0]["executionId"]
    try:
        yield records
    finally:
        await records.aclose()  # type: ignore[attr-defined]
