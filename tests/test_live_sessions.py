"""The `executions` subscription with a `sessionId` filter sends an execution exactly when the `executions`
query with that filter would list it after the write: both ask the store the same SQL question (any span's
`session.id`, or the execution itself). Through `tracehouse serve` and a websocket client, and in process
where a test must hold the stream still while the store moves ahead of it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from server.state import AppState
from storage.clickhouse.executions import ExecutionQuery, ExecutionRecord
from tests.conftest import Tenant
from tests.live_events import INGEST, ExecutionsWatcher, gql, held_stream, new_key, served, span, write
from tests.process import ServerProcess

KEY = "th_live_sessions_key"
SUBSCRIBE = "subscription($s: String!) { executions(filter: {sessionId: $s}) { id status sessionId } }"
LISTED = "query($s: String!) { executions(filter: {sessionId: $s}, first: 100) { edges { node { id } } } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[ServerProcess]:
    yield from served(tmp_path_factory, database_url, "live-sessions", KEY)


@pytest.fixture(scope="module")
def other_key(server: ServerProcess) -> str:
    return new_key(server, "sessions-other")


class Watcher(ExecutionsWatcher):
    """One `executions(filter: {sessionId})` subscription; its markers are executions of the session."""

    def __init__(self, server: ServerProcess, session: str, key: str = KEY) -> None:
        def marker(execution: str) -> list[dict[str, Any]]:
            return [span(execution, "r", "started", session=session)]

        super().__init__(server, SUBSCRIBE, {"s": session}, marker, key)
        self.session = session

    async def agrees_with_the_query(self) -> None:
        """Every execution the query lists was sent, and nothing else."""
        listed = await gql(self.server, LISTED, {"s": self.session}, self.key)
        assert {i["id"] for i in self.received} == {e["node"]["id"] for e in listed["executions"]["edges"]}


async def test_a_session_execution_whose_child_names_another_session_belongs_to_it(server: ServerProcess) -> None:
    """A HoneyHive session is its own session, and also in the session any of its spans names."""
    chat = f"chat-{uuid.uuid4().hex[:8]}"
    watcher = Watcher(server, chat)
    await watcher.start()
    hh, stranger = f"hh-{uuid.uuid4().hex[:8]}", f"stranger-{uuid.uuid4().hex[:8]}"
    await write(server, [span(hh, hh, "started", kind="session"), span(hh, "c", "started", parent=hh, session=chat)])
    await write(server, [span(stranger, "r", "started", kind="session"), span(stranger, "c", "started", parent="r",
                                                                                session="elsewhere")])  # fmt: skip
    assert [(i["id"], i["status"]) for i in await watcher.mark()] == [(hh, "RUNNING")]
    await watcher.agrees_with_the_query()
    await watcher.close()


async def test_a_trace_naming_two_sessions_is_in_both(server: ServerProcess) -> None:
    first, second = f"a-{uuid.uuid4().hex[:8]}", f"b-{uuid.uuid4().hex[:8]}"  # the first sorts lower
    watchers = [Watcher(server, first), Watcher(server, second)]
    for watcher in watchers:
        await watcher.start()
    trace = f"two-{uuid.uuid4().hex[:8]}"
    await write(server, [span(trace, "r", "started", session=second), span(trace, "c", "started", "tool", "r", first)])
    for watcher in watchers:
        assert [i["id"] for i in await watcher.mark()] == [trace], watcher.session
        await watcher.agrees_with_the_query()
        await watcher.close()


async def test_a_trace_is_sent_when_a_later_span_puts_it_in_the_session(server: ServerProcess) -> None:
    """The root starts without a session; a child naming it arrives later: the trace is sent then (the query
    lists it from then on), and again as its root finishes, and not for writes in between."""
    chat = f"chat-{uuid.uuid4().hex[:8]}"
    watcher = Watcher(server, chat)
    await watcher.start()
    trace = f"late-{uuid.uuid4().hex[:8]}"
    await write(server, [span(trace, "r", "started")])
    assert await watcher.mark() == []  # not in the session yet: the query does not list it either
    listed = await gql(server, LISTED, {"s": chat})
    assert trace not in {e["node"]["id"] for e in listed["executions"]["edges"]}
    await write(server, [span(trace, "c", "started", parent="r", session=chat)])
    assert await watcher.mark() == [{"id": trace, "status": "RUNNING", "sessionId": chat}]
    await write(server, [span(trace, "c", "completed", parent="r"), span(trace, "d", "started", parent="r")])
    assert await watcher.mark() == []  # already sent; its root neither started nor finished
    await write(server, [span(trace, "r", "completed")])
    assert await watcher.mark() == [{"id": trace, "status": "SUCCEEDED", "sessionId": chat}]
    await watcher.agrees_with_the_query()
    await watcher.close()


async def test_another_tenant_with_the_same_session_id_sees_nothing(server: ServerProcess, other_key: str) -> None:
    chat = f"chat-{uuid.uuid4().hex[:8]}"
    owner, spy = Watcher(server, chat), Watcher(server, chat, other_key)
    await owner.start()
    await spy.start()
    trace = f"mine-{uuid.uuid4().hex[:8]}"
    await write(server, [span(trace, "r", "started", session=chat), span(trace, "c", "started", parent="r")])
    await write(server, [span(chat, chat, "started", kind="session")])  # the session itself, by its own id
    assert {i["id"] for i in await owner.mark()} == {trace, chat}
    assert await spy.mark() == []
    await spy.agrees_with_the_query()
    assert all(i["id"].startswith("mark-") for i in spy.received)
    await owner.close()
    await spy.close()


# In process: the test holds the stream at a yield while writes land, so the store is ahead of it.


@pytest.fixture
async def stream(state: AppState, tenant: Tenant) -> AsyncIterator[AsyncIterator[ExecutionRecord]]:
    """A sessionId stream of `tenant`, live and paused at the yield of its first marker execution."""
    marker = [span("mark-held", "r", "started", session="chat-held")]
    async with held_stream(state, tenant, ExecutionQuery(session_id="chat-held"), marker) as records:
        yield records


async def test_a_start_read_after_the_store_saw_a_child_name_the_session_is_sent(
    state: AppState, tenant: Tenant, stream: AsyncIterator[ExecutionRecord]
) -> None:
    """The root's start is processed after its finish and a child naming the session were stored: the start
    goes out as the root showed it then (RUNNING), in the session the store knows of."""
    await tenant.gql_data(INGEST, {"e": [span("held", "r", "started")]})
    await tenant.gql_data(INGEST, {"e": [span("held", "c", "started", parent="r", session="chat-held"),
                                         span("held", "r", "completed")]})  # fmt: skip
    await state.writer.drain()
    got = [await asyncio.wait_for(anext(stream), 30) for _ in range(2)]
    assert [(r.id, r.status, r.session_id) for r in got] == [
        ("held", "RUNNING", "chat-held"), ("held", "SUCCEEDED", "chat-held")
    ]  # fmt: skip


@pytest.mark.parametrize("count", [1, 60])
async def test_one_query_per_delivered_message_however_many_executions_it_touches(
    state: AppState, tenant: Tenant, stream: AsyncIterator[ExecutionRecord], count: int
) -> None:
    """Executions starting in the session, plus as many outside it and children of both: the stream asks the
    store once for the message (the same figure for 1 and 60 of each)."""
    events = []
    for i in range(count):
        events += [span(f"in-{i}", "r", "started"), span(f"in-{i}", "c", "started", parent="r", session="chat-held"),
                   span(f"out-{i}", "r", "started", session="other")]  # fmt: skip
    await tenant.gql_data(INGEST, {"e": events})
    await state.writer.drain()
    before = state.ch.queries
    got = [await asyncio.wait_for(anext(stream), 30) for _ in range(count)]
    assert state.ch.queries - before == 1
    assert sorted(r.id for r in got) == sorted(f"in-{i}" for i in range(count))
