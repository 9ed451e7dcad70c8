"""The `executions` subscription's `failed` filter agrees with the `executions` query's: an execution is failed
when its root or any span below it failed, whether the update that carries it was read from the store or
built from the root span alone (the store having seen the root move on). Through `tracehouse serve` and a
websocket client, and in process where a test counts the store's reads."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from server.state import AppState
from storage.clickhouse.executions import ExecutionQuery, ExecutionRecord
from tests.conftest import Tenant
from tests.live_events import INGEST, ExecutionsWatcher, gql, held_stream, new_key, served, span, write
from tests.process import ServerProcess

KEY = "th_live_failed_key"
SUBSCRIBE = "subscription($f: Boolean!) { executions(filter: {failed: $f}) { id status } }"
LISTED = "query($f: Boolean!) { executions(filter: {failed: $f}, first: 500) { edges { node { id } } } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[ServerProcess]:
    yield from served(tmp_path_factory, database_url, "live-failed", KEY)


async def listed(server: ServerProcess, failed: bool) -> set[str]:
    data = await gql(server, LISTED, {"f": failed})
    return {e["node"]["id"] for e in data["executions"]["edges"]}


def _marker(failed: bool, marker: str) -> list[dict[str, Any]]:
    """A marker matches the filter: a root that fails for `failed: true`, one that starts for `failed: false`."""
    return [span(marker, "r", "started")] + ([span(marker, "r", "failed")] if failed else [])


class Watcher(ExecutionsWatcher):
    """One `executions(filter: {failed})` subscription."""

    def __init__(self, server: ServerProcess, failed: bool, key: str | None = None) -> None:
        super().__init__(server, SUBSCRIBE, {"f": failed}, functools.partial(_marker, failed), key)

    async def updates(self) -> list[tuple[str, str]]:
        """(id, status) of each update the writes since the last marker sent."""
        return [(i["id"], i["status"]) for i in await self.mark()]


async def test_a_child_failing_makes_the_execution_match_failed_true(server: ServerProcess) -> None:
    """Root start, a child's failure and the root's success in one write: the start is built from the root
    alone (the store has seen the root finish), and still matches, as the query lists the execution."""
    watcher = Watcher(server, failed=True)
    await watcher.start()
    trace = f"child-failed-{uuid.uuid4().hex[:8]}"
    await write(server, [span(trace, "r", "started"), span(trace, "c", "started", parent="r"),
                         span(trace, "c", "failed", parent="r"), span(trace, "r", "completed")])  # fmt: skip
    assert await watcher.updates() == [(trace, "RUNNING"), (trace, "SUCCEEDED")]
    assert trace in await listed(server, failed=True)
    await watcher.close()


async def test_a_child_failing_under_a_running_root_sends_the_execution_then(server: ServerProcess) -> None:
    """The root starts clean (not sent: the query does not list it); a child fails while it runs: the query
    lists it from then on, and the subscription sends it then, once, and again as its root finishes."""
    watcher = Watcher(server, failed=True)
    await watcher.start()
    trace = f"late-failure-{uuid.uuid4().hex[:8]}"
    await write(server, [span(trace, "r", "started"), span(trace, "c", "started", parent="r")])
    assert await watcher.updates() == []
    assert trace not in await listed(server, failed=True)
    await write(server, [span(trace, "c", "failed", parent="r")])
    assert await watcher.updates() == [(trace, "RUNNING")]
    assert trace in await listed(server, failed=True)
    await write(server, [span(trace, "d", "started", parent="r"), span(trace, "d", "completed", parent="r")])
    assert await watcher.updates() == []  # already sent; its root neither started nor finished
    await write(server, [span(trace, "r", "completed")])
    assert await watcher.updates() == [(trace, "SUCCEEDED")]
    await watcher.close()


async def test_a_child_failing_after_the_root_finished_sends_the_execution_then(server: ServerProcess) -> None:
    """The root starts and succeeds clean (not sent); a child's failure lands later: the query lists the
    execution from then on, and the subscription sends it then, as the store shows it (SUCCEEDED), once."""
    watcher = Watcher(server, failed=True)
    await watcher.start()
    trace = f"after-finish-{uuid.uuid4().hex[:8]}"
    await write(server, [span(trace, "r", "started"), span(trace, "r", "completed")])
    assert await watcher.updates() == []
    await write(server, [span(trace, "c", "started", parent="r"), span(trace, "c", "failed", parent="r")])
    assert await watcher.updates() == [(trace, "SUCCEEDED")]
    assert trace in await listed(server, failed=True)
    await write(server, [span(trace, "d", "started", parent="r"), span(trace, "d", "failed", parent="r")])
    assert await watcher.updates() == []  # sent already
    await watcher.close()


async def test_a_child_failing_keeps_the_execution_out_of_failed_false(server: ServerProcess) -> None:
    """The same write seen by `failed: false`: the query does not list the execution, and the subscription
    sends neither its start (built from the root alone) nor its finish; a clean execution is sent."""
    watcher = Watcher(server, failed=False)
    await watcher.start()
    failing, clean = f"child-failed-{uuid.uuid4().hex[:8]}", f"clean-{uuid.uuid4().hex[:8]}"
    await write(server, [span(failing, "r", "started"), span(failing, "c", "started", parent="r"),
                         span(failing, "c", "failed", parent="r"), span(failing, "r", "completed")])  # fmt: skip
    await write(server, [span(clean, "r", "started"), span(clean, "r", "completed")])
    assert await watcher.updates() == [(clean, "RUNNING"), (clean, "SUCCEEDED")]
    now_listed = await listed(server, failed=False)
    assert failing not in now_listed and clean in now_listed
    await watcher.close()


async def test_another_tenants_failures_are_not_sent_to_failed_true(server: ServerProcess) -> None:
    """Two tenants write the same execution id: one's child fails, the other's runs clean. The clean tenant's
    `failed: true` stream sends nothing of it, as its query lists nothing; the failing tenant's stream sends it."""
    other = new_key(server, "failed-other")
    owner, spy = Watcher(server, failed=True), Watcher(server, failed=True, key=other)
    await owner.start()
    await spy.start()
    trace = f"shared-{uuid.uuid4().hex[:8]}"
    await write(server, [span(trace, "r", "started"), span(trace, "c", "started", parent="r")], other)
    await write(server, [span(trace, "r", "started"), span(trace, "c", "started", parent="r"),
                         span(trace, "c", "failed", parent="r")])  # fmt: skip
    assert await owner.updates() == [(trace, "RUNNING")]
    assert await spy.updates() == []
    spy_listed = await gql(server, LISTED, {"f": True}, other)
    assert trace not in {e["node"]["id"] for e in spy_listed["executions"]["edges"]}
    await owner.close()
    await spy.close()


# In process: the test holds the stream at a yield while writes land, and counts what it asks the store.


@pytest.fixture
async def stream(state: AppState, tenant: Tenant) -> AsyncIterator[AsyncIterator[ExecutionRecord]]:
    """A `failed: true` stream of `tenant`, live and paused at the yield of a failed marker; the same write
    starts the root of "quiet" (clean: not sent)."""
    marker = [span("mark", "r", "started"), span("mark", "r", "failed"), span("quiet", "r", "started")]
    async with held_stream(state, tenant, ExecutionQuery(failed=True), marker) as records:
        yield records


async def test_writes_below_the_root_that_fail_nothing_ask_the_store_nothing(
    state: AppState, tenant: Tenant, stream: AsyncIterator[ExecutionRecord]
) -> None:
    """Each question is a summary over every span of the executions asked about: a commit of 100 clean
    writes below the running root asks nothing (the next commit, a failed marker, asks once for itself);
    a child failing then asks once and sends the execution."""
    clean = [span("quiet", f"c{i}", phase, parent="r") for i in range(50) for phase in ("started", "completed")]
    await tenant.gql_data(INGEST, {"e": clean})
    await tenant.gql_data(INGEST, {"e": [span("mark-2", "r", "started"), span("mark-2", "r", "failed")]})
    await state.writer.drain()
    before = state.ch.queries
    assert (await asyncio.wait_for(anext(stream), 30)).id == "mark-2"
    assert state.ch.queries - before == 1
    await tenant.gql_data(
        INGEST, {"e": [span("quiet", "x", "started", parent="r"), span("quiet", "x", "failed", parent="r")]}
    )
    await state.writer.drain()
    before = state.ch.queries
    got = await asyncio.wait_for(anext(stream), 30)
    assert (got.id, got.status, got.failed_spans) == ("quiet", "RUNNING", 1)
    assert state.ch.queries - before == 1
