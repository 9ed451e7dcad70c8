"""Live subscriptions against `tracehouse serve` as real processes, with a real websocket client."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from graphql import GraphQLNonNull

from graph.schema import schema
from tests.process import ServerProcess
from tests.ws_client import GraphQLWS, until_live

KEY = "th_live_test_key"
UPDATES = """subscription($id: ID!, $existing: Boolean, $after: String) {
  executionUpdates(executionId: $id, includeExisting: $existing, after: $after) {
    change cursor span { id name status parentId durationMs children { id } } event { name } } }"""


def vellum(trace: str, span: str, phase: str, parent: str | None = None, **body: object) -> dict[str, object]:
    definition = {"name": f"node {span}", "id": span}
    event: dict[str, object] = {"id": str(uuid.uuid4()), "name": f"node.execution.{phase}", "trace_id": trace,
                                "span_id": span, "body": {"node_definition": definition, **body}}  # fmt: skip
    if parent:
        event["parent"] = {"type": "WORKFLOW", "span_id": parent}
    return event


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("live") / "a", KEY, {"TRACEHOUSE_DATABASE_URL": database_url})
    proc.start()
    yield proc
    proc.stop()


async def post(server: ServerProcess, path: str, body: object, key: str = KEY) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}) as client:
        response = await client.post(path, json=body)
        assert response.status_code == 200, response.text
        return response


async def live_cursor(server: ServerProcess, key: str = KEY) -> str:
    """The live streams' position now: a stream started `after` it hears every later write, however late the
    server registers it."""
    return str((await post(server, "/graphql", {"query": "{ liveCursor }"}, key)).json()["data"]["liveCursor"])


def event_marker(server: ServerProcess, name: str) -> Callable[[str], Awaitable[object]]:
    """A marker for until_live: an audit event `name` carrying the token in its payload."""
    return lambda token: post(server, "/api/v1/events", {"eventType": name, "payload": {"marker": token}})


def execution_marker(server: ServerProcess, key: str = KEY, failed: bool = False) -> Callable[[str], Awaitable[object]]:
    """A marker for until_live: an execution named by the token whose root starts (and fails, if asked)."""
    return lambda token: post(server, "/monitoring/v1/events", [vellum(token, "root", "initiated")] + (
        [vellum(token, "root", "rejected", error={"message": "marker"})] if failed else []), key)  # fmt: skip


async def test_updates_arrive_within_a_second(server: ServerProcess) -> None:
    cursor = await live_cursor(server)  # the stream hears the write even if it starts after it
    ws = GraphQLWS(server.url)
    await ws.connect({"apiKey": KEY})
    await ws.subscribe(UPDATES, {"id": "live-1", "after": cursor})
    sent = time.monotonic()
    await post(server, "/monitoring/v1/events", vellum("live-1", "a", "initiated", inputs={"x": 1}))
    update = (await ws.data(timeout=1.0))["executionUpdates"]
    assert time.monotonic() - sent < 1.0
    assert update["change"] == "STARTED" and update["event"] == {"name": "node.execution.initiated"}
    assert update["span"]["id"] == "a" and update["span"]["status"] == "RUNNING"
    await post(server, "/monitoring/v1/events", [vellum("live-1", "b", "initiated", parent="a"),
                                                 vellum("live-1", "a", "fulfilled", outputs={"y": 2})])  # fmt: skip
    changes = [(u["executionUpdates"]["span"]["id"], u["executionUpdates"]["change"]) for u in
               [await ws.data(1.0), await ws.data(1.0)]]  # fmt: skip
    assert changes == [("b", "STARTED"), ("a", "FINISHED")]
    await ws.close()


async def test_include_existing_then_live_and_resume_with_cursor(server: ServerProcess) -> None:
    await post(
        server, "/monitoring/v1/events", [vellum("live-2", "a", "initiated"), vellum("live-2", "b", "initiated", "a")]
    )
    ws = GraphQLWS(server.url)
    await ws.connect({"Authorization": f"Bearer {KEY}"})
    await ws.subscribe(UPDATES, {"id": "live-2", "existing": True})
    existing = [(await ws.data())["executionUpdates"] for _ in range(2)]
    assert [u["span"]["id"] for u in existing] == ["a", "b"] and all(u["event"] is None for u in existing)
    assert existing[0]["span"]["children"] == [{"id": "b"}]
    await post(server, "/monitoring/v1/events", vellum("live-2", "b", "fulfilled", "a"))
    update = (await ws.data(1.0))["executionUpdates"]
    assert (update["span"]["id"], update["change"]) == ("b", "FINISHED")
    cursor = update["cursor"]
    await ws.close()

    # while nobody listens, two more changes happen; resuming from the cursor delivers exactly those
    await post(server, "/monitoring/v1/events", vellum("live-2", "c", "initiated", "a"))
    await post(server, "/monitoring/v1/events", vellum("live-2", "a", "rejected", error={"message": "x"}))
    ws = GraphQLWS(server.url)
    await ws.connect({"apiKey": KEY})
    await ws.subscribe(UPDATES, {"id": "live-2", "after": cursor})
    missed = [(await ws.data())["executionUpdates"] for _ in range(2)]
    assert [(u["span"]["id"], u["change"]) for u in missed] == [("c", "STARTED"), ("a", "FINISHED")]
    assert missed[1]["span"]["status"] == "FAILED"
    await post(server, "/monitoring/v1/events", vellum("live-2", "c", "fulfilled", "a"))
    assert (await ws.data(1.0))["executionUpdates"]["span"]["id"] == "c"
    with pytest.raises(TimeoutError):
        await ws.next(timeout=0.5)  # and nothing twice
    await ws.close()


async def test_events_and_executions_subscriptions(server: ServerProcess) -> None:
    ws = GraphQLWS(server.url)
    await ws.connect({"apiKey": KEY})
    await ws.subscribe("subscription { executions(filter: {failed: true}) { id status name } }")
    await until_live([ws], "executions", execution_marker(server, failed=True))
    await ws.subscribe('subscription($a: String) { events(filter: {names: ["build.failed"]}, after: $a) { '
                       "name actor { id } cursor } }", {"a": await live_cursor(server)})  # fmt: skip
    failed = {"eventType": "build.failed", "actorType": "user", "actorId": "ann"}
    await post(server, "/api/v1/events", [{"eventType": "build.started"}, failed])
    rejected = vellum("live-3", "root", "rejected", error={"message": "no"})
    await post(server, "/monitoring/v1/events", [vellum("live-3", "root", "initiated"), rejected])
    got = [await ws.data(1.0) for _ in range(2)]
    event = next(g["events"] for g in got if "events" in g)
    execution = next(g["executions"] for g in got if "executions" in g)
    assert event["name"] == "build.failed" and event["actor"] == {"id": "ann"} and event["cursor"]
    assert execution == {"id": "live-3", "status": "FAILED", "name": "node root"}
    await ws.close()


def other_tenant_key(server: ServerProcess) -> str:
    command = [str(Path(sys.executable).parent / "tracehouse"), "keys", "create", "--tenant", "other"]
    out = subprocess.run(command, env=server.env, capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.strip().splitlines()[-1]


async def test_second_tenant_receives_nothing_on_any_subscription(server: ServerProcess) -> None:
    """Every subscription field of the schema, found there, not listed here. Each is shown listening before the
    owner writes: resumable ones start from a cursor read before, `executions` hears a marker first."""
    other_key = other_tenant_key(server)
    fields = schema._schema.subscription_type.fields  # type: ignore[union-attr]
    resumable = [name for name, field in fields.items() if "after" in field.args]
    assert set(fields) - set(resumable) == {"executions"}, "show here how a new subscription is known to listen"
    documents = {}
    for name, field in fields.items():
        args = {"executionId": '"live-4"', "after": "$after"}
        given = ", ".join(f"{a}: {args[a]}" for a in field.args if a in args)
        assert all(a in args or not isinstance(f.type, GraphQLNonNull) for a, f in field.args.items()), name
        variables, selection = ("($after: String)", "__typename") if name in resumable else ("", "__typename id")
        documents[name] = f"subscription{variables} {{ {name}{f'({given})' if given else ''} {{ {selection} }} }}"

    async def listening(key: str) -> GraphQLWS:
        ws = GraphQLWS(server.url)
        await ws.connect({"apiKey": key})
        await ws.subscribe(documents["executions"])
        await until_live([ws], "executions", execution_marker(server, key))  # in the key's own tenant
        cursor = await live_cursor(server, key)
        for name in resumable:
            await ws.subscribe(documents[name], {"after": cursor})
        return ws

    owner, spy = await listening(KEY), await listening(other_key)
    await post(
        server, "/monitoring/v1/events", [vellum("live-4", "a", "initiated"), vellum("live-4", "a", "fulfilled")]
    )
    await post(server, "/api/v1/events", {"eventType": "secret.thing", "actorType": "user", "actorId": "u"})
    received: set[str] = set()
    while len(received) < len(documents):
        received.add((await owner.next(2.0))["id"])  # the owner hears every subscription…
    with pytest.raises(TimeoutError):
        await spy.next(timeout=1.0)  # …the other tenant none of them
    await owner.close()
    await spy.close()


async def test_bad_key_missing_init_and_bad_cursor(server: ServerProcess) -> None:
    ws = GraphQLWS(server.url)
    await ws.connect({"apiKey": "th_wrong"}, expect_ack=False)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await ws.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    silent = await websockets.connect(
        server.url.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"]
    )
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(silent.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408  # init timeout
    ws = GraphQLWS(server.url)
    await ws.connect({"apiKey": KEY})
    await ws.subscribe(UPDATES, {"id": "x", "after": "garbage"})
    message = await ws.next()
    assert message["type"] in ("error", "next")
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    await ws.close()


async def test_two_processes_share_the_bus(server: ServerProcess, tmp_path: Path, database_url: str) -> None:
    other = ServerProcess(tmp_path / "b", KEY, {"TRACEHOUSE_DATABASE_URL": database_url})
    other.start()
    try:
        ws = GraphQLWS(server.url)
        await ws.connect({"apiKey": KEY})
        await ws.subscribe(UPDATES, {"id": "live-5", "after": await live_cursor(server)})
        await post(server, "/monitoring/v1/events", vellum("live-5", "warm", "initiated"))
        assert (await ws.data(timeout=10.0))["executionUpdates"]["span"]["id"] == "warm"  # past its replay: live
        sent = time.monotonic()
        await post(other, "/monitoring/v1/events", vellum("live-5", "x", "initiated", inputs={"from": "b"}))
        update = (await ws.data(timeout=2.0))["executionUpdates"]
        assert time.monotonic() - sent < 1.0
        assert (update["span"]["id"], update["change"]) == ("x", "STARTED")
        await ws.close()
    finally:
        other.stop()


async def test_revoking_a_key_ends_its_open_subscriptions(server: ServerProcess) -> None:
    tracehouse = str(Path(sys.executable).parent / "tracehouse")
    create = [tracehouse, "keys", "create", "--tenant", "default", "--scopes", "read"]
    out = subprocess.run(create, env=server.env, capture_output=True, text=True, check=True, timeout=120)  # noqa: ASYNC221
    key = out.stdout.strip().splitlines()[-1]
    ws = GraphQLWS(server.url)
    await ws.connect({"apiKey": key})
    await ws.subscribe("subscription($a: String) { events(after: $a) { name } }", {"a": await live_cursor(server)})
    await post(server, "/api/v1/events", {"eventType": "revoke.warm"})  # the key reads; the tenant's own key writes
    assert (await ws.data(timeout=10.0))["events"]["name"] == "revoke.warm"  # the stream is running
    revoke = [tracehouse, "keys", "revoke", key]
    subprocess.run(revoke, env=server.env, capture_output=True, text=True, check=True, timeout=120)  # noqa: ASYNC221
    message = await ws.next(timeout=15.0)  # key cache (5 s) + the stream's check interval (2 s)
    errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
    assert errors and errors[0]["extensions"]["code"] == "UNAUTHENTICATED", message
    await ws.close()


async def subscribers(server: ServerProcess, document: str, n: int, name: str) -> list[GraphQLWS]:
    """n connections, each subscribed to `document` (an `events` tail that matches events called `name` and
    shows their payload), each shown listening by a marker event before anything else is sent."""
    clients = [GraphQLWS(server.url) for _ in range(n)]
    for ws in clients:
        await ws.connect({"apiKey": KEY})
        await ws.subscribe(document)
    await until_live(clients, "events", event_marker(server, name))
    return clients


async def test_identical_subscriptions_share_one_stream_and_leave_independently(server: ServerProcess) -> None:
    document = 'subscription { events(filter: {names: ["shared.tick"]}) { name payload } }'
    first, second = await subscribers(server, document, 2, "shared.tick")
    await post(server, "/api/v1/events", {"eventType": "shared.tick", "payload": {"n": 1}})
    for ws in (first, second):
        assert (await ws.data(2.0))["events"] == {"name": "shared.tick", "payload": {"n": 1}}
    await first.close()  # returns once the server has closed its side
    for n in (2, 3):  # two writes after the leave: a leave that stopped the shared stream would lose the second
        await post(server, "/api/v1/events", {"eventType": "shared.tick", "payload": {"n": n}})
        assert (await second.data(2.0))["events"]["payload"] == {"n": n}
    await second.close()


async def test_large_messages_go_out_as_valid_frames(server: ServerProcess) -> None:
    """Live messages leave in batched frames written by the server itself: every length encoding parses."""
    document = 'subscription { events(filter: {names: ["frame.size"]}) { payload } }'
    (ws,) = await subscribers(server, document, 1, "frame.size")
    sizes = [1, 100, 70_000, 200_000]  # 7-bit, 16-bit and 64-bit payload lengths
    await post(server, "/api/v1/events", [{"eventType": "frame.size", "payload": {"s": "x" * n}} for n in sizes])
    for n in sizes:
        assert (await ws.data(5.0))["events"]["payload"] == {"s": "x" * n}
    await ws.close()


async def test_a_subscriber_that_stops_reading_is_cut_off_with_a_reason(server: ServerProcess) -> None:
    document = 'subscription { events(filter: {names: ["slow.tick"]}) { name payload } }'
    reader, stalled = await subscribers(server, document, 2, "slow.tick")
    # ~24 MB of messages: more than the socket buffers, the server's write buffer and the subscriber's queue
    blob, total = "x" * 1_000, 24_000
    for start in range(0, total, 2_000):
        await post(server, "/api/v1/events", [{"eventType": "slow.tick", "payload": {"n": start + i, "b": blob}}
                                              for i in range(2_000)])  # fmt: skip
        for _ in range(2_000):  # the other subscriber of the same stream keeps up and is not affected
            assert (await reader.data(10.0))["events"]["name"] == "slow.tick"
    received, codes = 0, []
    while True:
        message = await stalled.next(10.0)
        if message["type"] == "complete":
            break
        errors = message["payload"].get("errors") if message["type"] == "next" else message["payload"]
        if errors:
            codes.append(errors[0]["extensions"]["code"])
        else:
            received += 1
    assert codes == ["SLOW_CONSUMER"] and received < total
    await post(server, "/api/v1/events", {"eventType": "slow.tick", "payload": {"n": -1}})
    assert (await reader.data(5.0))["events"]["payload"] == {"n": -1}  # the reader's subscription lives on
    await reader.close()
    await stalled.close()


async def test_late_joiners_of_a_shared_stream_get_their_history_then_live_without_gap_or_repeat(
    server: ServerProcess,
) -> None:
    """Subscribers with the same includeExisting document share one stream; each that joins while spans
    are being written gets the spans stored so far, then every later change once."""
    document = """subscription($id: ID!) { executionUpdates(executionId: $id, includeExisting: true) {
      change span { id status } event { id } } }"""
    trace, spans = f"join-{uuid.uuid4().hex[:8]}", 40
    await post(server, "/monitoring/v1/events", [vellum(trace, "root", "initiated")])

    async def write() -> None:
        for k in range(spans):
            await post(server, "/monitoring/v1/events", vellum(trace, f"s{k}", "initiated", "root"))
            await post(server, "/monitoring/v1/events", vellum(trace, f"s{k}", "fulfilled", "root", outputs={"k": k}))
        await post(server, "/monitoring/v1/events", vellum(trace, "root", "fulfilled"))

    async def subscriber() -> list[dict[str, Any]]:
        """Everything one subscriber receives, read as it arrives, until two quiet seconds."""
        ws = GraphQLWS(server.url)
        await ws.connect({"apiKey": KEY})
        await ws.subscribe(document, {"id": trace})
        updates = []
        with contextlib.suppress(TimeoutError):
            while True:
                updates.append((await ws.data(2.0))["executionUpdates"])
        await ws.close()
        return updates

    readers = [asyncio.create_task(subscriber())]
    writer = asyncio.create_task(write())
    for k in range(20):  # joiners arrive while spans are being written, some of them together
        await asyncio.sleep((0.03, 0.1, 0.0, 0.15)[k % 4])
        readers.append(asyncio.create_task(subscriber()))
    await writer
    for updates in await asyncio.gather(*readers):
        history = [u for u in updates if u["event"] is None]
        live_updates = [u for u in updates if u["event"] is not None]
        assert updates[: len(history)] == history, "history comes first"
        event_ids = [u["event"]["id"] for u in live_updates]
        assert len(event_ids) == len(set(event_ids)), "an event arrived twice"
        finished_in_history = {u["span"]["id"] for u in history if u["change"] == "FINISHED"}
        assert not [u for u in live_updates if u["change"] == "FINISHED" and u["span"]["id"] in finished_in_history]
        last = {u["span"]["id"]: u["span"]["status"] for u in updates}
        assert last == {"root": "SUCCEEDED", **{f"s{k}": "SUCCEEDED" for k in range(spans)}}, "a change was missed"


async def test_a_resumed_stream_replays_more_than_a_queue_at_the_clients_pace(server: ServerProcess) -> None:
    """A replay larger than the per-subscriber queue (1,000) waits for the client instead of cutting it off."""
    document = """subscription($after: String) {
      events(filter: {names: ["replay.tick"]}, after: $after) { payload cursor } }"""
    ws = GraphQLWS(server.url)
    await ws.connect({"apiKey": KEY})
    await ws.subscribe(document, {"after": await live_cursor(server)})
    await post(server, "/api/v1/events", {"eventType": "replay.tick", "payload": {"n": -1}})
    cursor = (await ws.data(5.0))["events"]["cursor"]
    await ws.close()
    total, blob = 5_000, "x" * 4_000  # ~20 MB: more than the socket buffers hold while the client waits
    for start in range(0, total, 1_000):
        await post(server, "/api/v1/events", [{"eventType": "replay.tick", "payload": {"n": start + i, "b": blob}}
                                              for i in range(1_000)])  # fmt: skip
    ws = GraphQLWS(server.url)
    await ws.connect({"apiKey": KEY})
    await ws.subscribe(document, {"after": cursor})
    await asyncio.sleep(2.0)  # a client busy elsewhere: the server's queue for it fills up meanwhile
    received = [(await ws.data(10.0))["events"]["payload"]["n"] for _ in range(total)]
    assert received == list(range(total))
    await ws.close()


async def test_identical_documents_of_two_tenants_never_share_a_stream(server: ServerProcess) -> None:
    """Sharing is keyed by API key: the other tenant's identical includeExisting subscription reads its own
    (empty) store and hears nothing live, though the owner's stream for the same document is running."""
    document = """subscription { executionUpdates(executionId: "live-iso", includeExisting: true) {
      change span { id } } }"""
    await post(server, "/monitoring/v1/events", [vellum("live-iso", "a", "initiated")])
    owner, spy, spy_key = GraphQLWS(server.url), GraphQLWS(server.url), other_tenant_key(server)
    await owner.connect({"apiKey": KEY})
    await owner.subscribe(document)
    # History is read after the stream joined the bus: once it arrives, every later write is heard too.
    assert (await owner.data(5.0))["executionUpdates"]["span"]["id"] == "a"  # the owner's history
    await spy.connect({"apiKey": spy_key})
    await spy.subscribe(document)

    async def spy_marker(token: str) -> None:  # a span of the same execution id in the spy's own tenant
        await post(server, "/monitoring/v1/events", [vellum("live-iso", token, "initiated")], spy_key)

    await until_live([spy], "executionUpdates", spy_marker)
    await post(server, "/monitoring/v1/events", [vellum("live-iso", "a", "fulfilled")])
    assert (await owner.data(5.0))["executionUpdates"]["change"] == "FINISHED"
    with pytest.raises(TimeoutError):
        await spy.next(timeout=1.0)
    await owner.close()
    await spy.close()


async def test_identical_invalid_documents_each_get_the_error_and_the_server_carries_on(
    server: ServerProcess,
) -> None:
    document = 'subscription { executionUpdates(executionId: "x", includeExisting: true) { noSuchField } }'
    clients = [GraphQLWS(server.url) for _ in range(3)]
    for ws in clients:
        await ws.connect({"apiKey": KEY})
    for ws in clients:  # back to back: later ones may find the first one's stream still registered
        await ws.subscribe(document)
    for ws in clients:
        message = await ws.next(5.0)
        errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
        assert errors and "noSuchField" in errors[0]["message"], message
        await ws.close()
    broken = GraphQLWS(server.url)  # a document that does not parse closes the socket with the reason (4400)
    await broken.connect({"apiKey": KEY})
    await broken.subscribe("subscription { events { name }")
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await broken.next(5.0)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    assert "Syntax Error" in closed.value.rcvd.reason
    document = 'subscription { events(filter: {names: ["after.bad"]}) { name payload } }'
    (ws,) = await subscribers(server, document, 1, "after.bad")
    await post(server, "/api/v1/events", {"eventType": "after.bad"})
    assert (await ws.data(5.0))["events"] == {"name": "after.bad", "payload": {}}
    await ws.close()


async def test_a_client_sees_its_own_writes_live_in_the_order_it_made_them(server: ServerProcess) -> None:
    """Commits run in parallel: B, sent after A was acknowledged, must still reach subscribers after A."""
    ws = GraphQLWS(server.url)
    await ws.connect({"apiKey": KEY})
    await ws.subscribe(UPDATES, {"id": "live-order", "after": await live_cursor(server)})
    await post(server, "/monitoring/v1/events", vellum("live-order", "s-warm", "initiated"))
    assert (await ws.data(timeout=10))["executionUpdates"]["span"]["id"] == "s-warm"  # past its replay: live
    spans = [f"s-{i:03d}" for i in range(60)]

    # Several writers, each sequential: concurrent commits, yet an order each writer can rely on.
    async def writer(part: list[str]) -> None:
        for span in part:
            await post(server, "/monitoring/v1/events", vellum("live-order", span, "initiated"))

    await asyncio.gather(*(writer(spans[w::3]) for w in range(3)))
    seen = [(await ws.data(timeout=10))["executionUpdates"]["span"]["id"] for _ in spans]
    await ws.close()
    for w in range(3):
        mine = [s for s in seen if s in spans[w::3]]
        assert mine == spans[w::3], (w, mine)


async def test_a_live_cursor_read_before_a_snapshot_misses_nothing(server: ServerProcess) -> None:
    """`liveCursor` then writes then the subscription from that cursor: the writes in between arrive; a cursor
    read after them replays none of them."""
    cursor_query = {"query": "{ liveCursor }"}
    before = (await post(server, "/graphql", cursor_query)).json()["data"]["liveCursor"]
    await post(server, "/monitoring/v1/events", [vellum("live-cur", "a", "initiated"),
                                                 vellum("live-cur", "b", "initiated", "a")])  # fmt: skip
    after = (await post(server, "/graphql", cursor_query)).json()["data"]["liveCursor"]
    assert before != after

    ws = GraphQLWS(server.url)
    await ws.connect({"apiKey": KEY})
    await ws.subscribe(UPDATES, {"id": "live-cur", "after": before})
    replayed = [(await ws.data(5.0))["executionUpdates"] for _ in range(2)]
    assert [(u["span"]["id"], u["change"]) for u in replayed] == [("a", "STARTED"), ("b", "STARTED")]
    await ws.close()

    ws = GraphQLWS(server.url)
    await ws.connect({"apiKey": KEY})
    await ws.subscribe(UPDATES, {"id": "live-cur", "after": after})
    await post(server, "/monitoring/v1/events", vellum("live-cur", "c", "initiated", "a"))
    update = (await ws.data(5.0))["executionUpdates"]
    assert update["span"]["id"] == "c", update  # a and b were before the cursor: not sent again
    await ws.close()


async def test_the_executions_subscription_honours_a_search_in_any_span(server: ServerProcess) -> None:
    """`executions(filter: {search})` sends only executions having a span that contains the text, as the
    `executions` query would list them; the root span alone does not decide."""
    log = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }"

    async def execution(execution_id: str, child_output: str) -> None:
        spans = [{"id": "root", "executionId": execution_id, "name": "run", "startTime": "2025-01-01T00:00:00Z",
                  "endTime": "2025-01-01T00:00:02Z"},
                 {"id": "child", "executionId": execution_id, "parentId": "root", "name": "step",
                  "startTime": "2025-01-01T00:00:01Z", "endTime": "2025-01-01T00:00:02Z",
                  "outputs": {"text": child_output}}]  # fmt: skip
        await post(server, "/graphql", {"query": log, "variables": {"s": spans}})

    ws = GraphQLWS(server.url)
    await ws.connect({"apiKey": KEY})
    await ws.subscribe('subscription { executions(filter: {search: "Zebra-Needle"}) { id } }')
    seen: list[str] = []
    for attempt in range(10):  # until the subscription is registered: the first match arrives
        await execution(f"needle-{attempt}", "a zebra-needle here")
        try:
            seen.append((await ws.data(2.0))["executions"]["id"])
            break
        except TimeoutError:
            continue
    assert seen, "no matching execution arrived"
    await execution("plain", "nothing to see")
    await execution("needle-last", "ZEBRA-NEEDLE again")
    while seen[-1] != "needle-last":
        seen.append((await ws.data(5.0))["executions"]["id"])
    assert "plain" not in seen and all(i.startswith("needle-") for i in seen), seen
    await ws.close()


async def test_two_formats_events_with_one_id_both_arrive(server: ServerProcess) -> None:
    """An event id is unique within its format: a Vellum event and a GraphQL event that share one are two
    updates, on the execution's stream and on the event tail."""
    trace = f"live-dup-{uuid.uuid4()}"
    # Both streams start from a cursor read before the writes: nothing is missed however late they start.
    cursor = (await post(server, "/graphql", {"query": "{ liveCursor }"})).json()["data"]["liveCursor"]
    ws = GraphQLWS(server.url)
    await ws.connect({"apiKey": KEY})
    await ws.subscribe(UPDATES, {"id": trace, "after": cursor})
    tail = GraphQLWS(server.url)
    await tail.connect({"apiKey": KEY})
    await tail.subscribe("subscription($f: EventFilter, $a: String) { events(filter: $f, after: $a) { id source } }",
                         {"f": {"executionId": trace}, "a": cursor})  # fmt: skip
    await post(server, "/monitoring/v1/events", {**vellum(trace, "a", "initiated"), "id": "shared-id"})
    mutation = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }"
    canonical = {"id": "shared-id", "name": "node.step.completed", "executionId": trace, "spanId": "a"}
    await post(server, "/graphql", {"query": mutation, "variables": {"e": [canonical]}})
    updates = [(await ws.data(2.0))["executionUpdates"] for _ in range(2)]
    assert [(u["event"]["name"], u["change"]) for u in updates] == [
        ("node.execution.initiated", "STARTED"), ("node.step.completed", "FINISHED"),
    ]  # fmt: skip
    tailed = sorted([(await tail.data(2.0))["events"]["source"] for _ in range(2)])
    assert tailed == ["graphql", "vellum"]
    await ws.close()
    await tail.close()
