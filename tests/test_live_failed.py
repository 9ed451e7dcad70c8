"""The `executions` subscription's `failed` filter agrees with the `executions` query's: an execution is failed
when its root or any span below it failed, whether the update that carries it was read from the store or
built from the root span alone (the store having seen the root move on). Through `tracehouse serve` and a
websocket client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.process import ServerProcess
from tests.ws_client import GraphQLWS

KEY = "th_live_failed_key"
INGEST = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }"
SUBSCRIBE = "subscription($f: Boolean!) { executions(filter: {failed: $f}) { id status } }"
LISTED = "query($f: Boolean!) { executions(filter: {failed: $f}, first: 500) { edges { node { id } } } }"


def span(execution: str, span_id: str, phase: str, parent: str | None = None) -> dict[str, Any]:
    """A lifecycle event of one span: `chain.started`, `chain.failed`, `chain.completed`."""
    event: dict[str, Any] = {"name": f"chain.{phase}", "executionId": execution, "spanId": span_id,
                             "payload": {"name": f"chain {span_id}"}}  # fmt: skip
    if parent:
        event["parentSpanId"] = parent
    return event


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("live-failed") / "a", KEY, {"TRACEHOUSE_DATABASE_URL": database_url})
    proc.start()
    yield proc
    proc.stop()


async def gql(server: ServerProcess, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": KEY}) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


async def write(server: ServerProcess, events: list[dict[str, Any]]) -> None:
    await gql(server, INGEST, {"e": events})


async def listed(server: ServerProcess, failed: bool) -> set[str]:
    data = await gql(server, LISTED, {"f": failed})
    return {e["node"]["id"] for e in data["executions"]["edges"]}


class Watcher:
    """One `executions(filter: {failed})` subscription; `mark` reads up to a marker execution written after
    the writes under test (messages arrive in write order), so what came before it is all they sent."""

    def __init__(self, server: ServerProcess, failed: bool) -> None:
        self.server, self.failed = server, failed
        self.ws = GraphQLWS(server.url)
        self._marks = 0

    async def start(self) -> None:
        """Subscribe, then write markers until one arrives: from then on the subscription sees every write."""
        await self.ws.connect({"apiKey": KEY})
        await self.ws.subscribe(SUBSCRIBE, {"f": self.failed})
        for _ in range(20):
            try:
                await self.mark()
                return
            except TimeoutError:
                continue
        raise AssertionError("the subscription never went live")

    async def mark(self) -> list[tuple[str, str]]:
        self._marks += 1
        marker = f"mark-{uuid.uuid4().hex[:8]}"
        # A marker matches the filter: a root that fails for `failed: true`, one that starts for `failed: false`.
        events = [span(marker, "r", "started")] + ([span(marker, "r", "failed")] if self.failed else [])
        await write(self.server, events)
        before: list[tuple[str, str]] = []
        while True:
            item = (await self.ws.data(10.0))["executions"]
            if item["id"] == marker:
                return before
            if not item["id"].startswith("mark-"):
                before.append((item["id"], item["status"]))

    async def close(self) -> None:
        await self.ws.close()


async def test_a_child_failing_makes_the_execution_match_failed_true(server: ServerProcess) -> None:
    """Root start, a child's failure and the root's success in one write: the start is built from the root
    alone (the store has seen the root finish), and still matches, as the query lists the execution."""
    watcher = Watcher(server, failed=True)
    await watcher.start()
    trace = f"child-failed-{uuid.uuid4().hex[:8]}"
    await write(server, [span(trace, "r", "started"), span(trace, "c", "started", "r"), span(trace, "c", "failed", "r"),
                         span(trace, "r", "completed")])  # fmt: skip
    assert await watcher.mark() == [(trace, "RUNNING"), (trace, "SUCCEEDED")]
    assert trace in await listed(server, failed=True)
    await watcher.close()


async def test_a_child_failing_under_a_running_root_sends_the_execution_then(server: ServerProcess) -> None:
    """The root starts clean (not sent: the query does not list it); a child fails while it runs: the query
    lists it from then on, and the subscription sends it then, once, and again as its root finishes."""
    watcher = Watcher(server, failed=True)
    await watcher.start()
    trace = f"late-failure-{uuid.uuid4().hex[:8]}"
    await write(server, [span(trace, "r", "started"), span(trace, "c", "started", "r")])
    assert await watcher.mark() == []
    assert trace not in await listed(server, failed=True)
    await write(server, [span(trace, "c", "failed", "r")])
    assert await watcher.mark() == [(trace, "RUNNING")]
    assert trace in await listed(server, failed=True)
    await write(server, [span(trace, "d", "started", "r"), span(trace, "d", "completed", "r")])
    assert await watcher.mark() == []  # already sent; its root neither started nor finished
    await write(server, [span(trace, "r", "completed")])
    assert await watcher.mark() == [(trace, "SUCCEEDED")]
    await watcher.close()


async def test_a_child_failing_keeps_the_execution_out_of_failed_false(server: ServerProcess) -> None:
    """The same write seen by `failed: false`: the query does not list the execution, and the subscription
    sends neither its start (built from the root alone) nor its finish; a clean execution is sent."""
    watcher = Watcher(server, failed=False)
    await watcher.start()
    failing, clean = f"child-failed-{uuid.uuid4().hex[:8]}", f"clean-{uuid.uuid4().hex[:8]}"
    await write(server, [span(failing, "r", "started"), span(failing, "c", "started", "r"),
                         span(failing, "c", "failed", "r"), span(failing, "r", "completed")])  # fmt: skip
    await write(server, [span(clean, "r", "started"), span(clean, "r", "completed")])
    assert await watcher.mark() == [(clean, "RUNNING"), (clean, "SUCCEEDED")]
    now_listed = await listed(server, failed=False)
    assert failing not in now_listed and clean in now_listed
    await watcher.close()
