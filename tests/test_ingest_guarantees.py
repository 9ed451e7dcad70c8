"""Idempotency, atomicity, group commit and every error class of the write paths."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from server.settings import Settings
from server.state import AppState
from storage.errors import StoreUnavailable
from tests.conftest import Tenant

COUNT = "{ events { totalCount } }"


def _vellum(event_id: str | None = None, **extra: Any) -> dict[str, Any]:
    event = {"name": "node.execution.initiated", "trace_id": "t", "span_id": str(uuid.uuid4()),
             "timestamp": "2024-01-15T09:30:00Z", "body": {}, **extra}  # fmt: skip
    if event_id:
        event["id"] = event_id
    return event


async def _count(tenant: Tenant) -> int:
    return (await tenant.gql_data(COUNT))["events"]["totalCount"]


async def test_same_id_twice_and_concurrently_is_stored_once(tenant: Tenant) -> None:
    event = _vellum("dup-1")
    for _ in range(2):
        assert (await tenant.http.post("/monitoring/v1/events", json=event)).status_code == 200
    responses = await asyncio.gather(*(tenant.http.post("/monitoring/v1/events", json=[event]) for _ in range(10)))
    assert all(r.status_code == 200 for r in responses)
    await tenant.http.post("/monitoring/v1/events", json=[event, event])
    audit = {"id": "dup-2", "eventType": "x.y"}
    await asyncio.gather(*(tenant.http.post("/api/v1/events", json=audit) for _ in range(5)))
    assert await _count(tenant) == 2


async def test_events_without_id_get_one_returned(tenant: Tenant) -> None:
    body = (await tenant.http.post("/api/v1/events", json=[{"eventType": "a"}, {"eventType": "b"}])).json()
    assert len(set(body["eventIds"])) == 2
    hh = (await tenant.http.post("/v1/events", json={"event_type": "tool", "inputs": {}})).json()
    uuid.UUID(hh["event_id"])
    for event_id in [*body["eventIds"], hh["event_id"]]:
        found = await tenant.gql_data("query($id: ID!) { event(id: $id) { id } }", {"id": event_id})
        assert found["event"] == {"id": event_id}


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/monitoring/v1/events", [_vellum(), _vellum(), {"name": "x", "trace_id": 5, "span_id": "s"}],
         ["body", 2, "trace_id"]),
        ("/monitoring/v1/events", [_vellum(), _vellum(timestamp="yesterday")], ["body", 1, "timestamp"]),
        ("/monitoring/v1/events", [_vellum(timestamp="0536-04-10T03:29:05Z")], ["body", 0, "timestamp"]),
        ("/monitoring/v1/events", {"trace_id": "t", "span_id": "s"}, ["body", "name"]),
        ("/monitoring/v1/events", [_vellum(), "not an object"], ["body", 1]),
        ("/monitoring/v1/events", [_vellum(body=[])], ["body", 0, "body"]),
        ("/api/v1/events", [{"eventType": "ok"}, {"eventType": "ok", "occurredAt": 12}], ["body", 1, "occurredAt"]),
        ("/api/v1/events", {"actorId": "a"}, ["body", "eventType"]),
        ("/api/v1/events", [{"eventType": "ok"}, {"eventType": "ok", "actorId": ["x"]}], ["body", 1, "actorId"]),
        ("/v1/events", {"event_type": "banana", "inputs": {}}, ["body", "event_type"]),
        ("/v1/events", {"event_type": "model"}, ["body", "inputs"]),
        ("/v1/events", {"event_type": "model", "inputs": {}, "start_time": "noon"}, ["body", "start_time"]),
        ("/session/s/event", {"children": [{}, {"inputs": []}]}, ["body", "children", 1, "inputs"]),
    ],
)  # fmt: skip
async def test_invalid_item_rejects_whole_batch_with_422(tenant: Tenant, path: str, body: Any, loc: list[Any]) -> None:
    response = await tenant.http.post(path, json=body)
    # Vellum's document lists 400 for a bad request; the others answer 422 as FastAPI does
    assert response.status_code == (400 if path == "/monitoring/v1/events" else 422), response.text
    detail = response.json()["detail"]
    assert detail[0]["loc"] == loc and detail[0]["msg"] and detail[0]["type"]
    assert await _count(tenant) == 0


async def test_graphql_invalid_item_rejects_whole_batch(tenant: Tenant) -> None:
    mutation = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }"
    spans = [
        {"executionId": "e", "name": "ok", "startTime": "2024-01-01T00:00:00Z"},
        {"executionId": "e", "name": "bad", "startTime": "2024-01-01T00:00:00Z", "status": "HAPPY"},
    ]
    body = await tenant.gql(mutation, {"s": spans})
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "spans[1].status"}
    assert "spans[1].status" in error["message"]
    events = [{"name": "ok"}, {"name": "x", "spanId": "s"}]
    body = await tenant.gql("mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }", {"e": events})
    assert body["errors"][0]["extensions"]["field"] == "events[1].executionId"
    body = await tenant.gql('mutation { ingestEvents(events: [{name: "a", timestamp: "nope"}]) { count } }')
    assert body["errors"]  # the schema rejects a bad DateTime before any resolver runs
    assert await _count(tenant) == 0


async def test_malformed_json_is_400(tenant: Tenant) -> None:
    for path in ("/monitoring/v1/events", "/v1/events", "/session/s/event", "/api/v1/events"):
        response = await tenant.http.post(path, content=b'{"name": ', headers={"Content-Type": "application/json"})
        assert response.status_code == 400, path
        detail = response.json()["detail"]  # the Vellum path keeps its one error shape: a list
        assert "malformed JSON" in (detail[0]["msg"] if path == "/monitoring/v1/events" else detail)


async def test_oversize_body_and_batch_are_413(tenant: Tenant, state: AppState) -> None:
    big = [_vellum(body={"inputs": {"blob": "x" * 2_000}}) for _ in range(600)]  # > 1 MB test limit
    response = await tenant.http.post("/monitoring/v1/events", json=big)
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    many = [{"eventType": "x"}] * (state.settings.max_batch_items + 1)
    response = await tenant.http.post("/api/v1/events", json=many)
    assert response.status_code == 413
    events = [{"name": "x"}] * (state.settings.max_batch_items + 1)
    body = await tenant.gql("mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }", {"e": events})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await _count(tenant) == 0


class FailingInserts:
    """A fault-injecting wrapper: inserts fail as if ClickHouse were down; everything else passes through."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def insert(self, *args: Any, **kwargs: Any) -> None:
        raise StoreUnavailable("clickhouse", ConnectionRefusedError("connection refused"))

    async def insert_columns(self, *args: Any, **kwargs: Any) -> None:
        raise StoreUnavailable("clickhouse", ConnectionRefusedError("connection refused"))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def clickhouse_down(state: AppState) -> Iterator[None]:
    real = state.writer._ch
    state.writer._ch = FailingInserts(real)  # type: ignore[assignment]
    try:
        yield
    finally:
        state.writer._ch = real


async def test_store_down_is_503_with_retry_after_and_server_stays_up(tenant: Tenant, clickhouse_down: None) -> None:
    response = await tenant.http.post("/monitoring/v1/events", json=[_vellum()])
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = await tenant.gql('mutation { ingestEvents(events: [{name: "a"}]) { count } }')
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert (await tenant.http.get("/healthz")).status_code == 200


async def test_after_store_recovers_writes_succeed(tenant: Tenant) -> None:
    response = await tenant.http.post("/monitoring/v1/events", json=[_vellum()])
    assert response.status_code == 200
    assert await _count(tenant) == 1


async def test_concurrent_requests_are_coalesced_into_few_inserts(tenant: Tenant, state: AppState) -> None:
    before = state.writer.inserts
    responses = await asyncio.gather(*(tenant.http.post("/monitoring/v1/events", json=_vellum()) for _ in range(40)))
    assert all(r.status_code == 200 for r in responses)
    inserts = state.writer.inserts - before
    assert 1 <= inserts < 40
    assert await _count(tenant) == 40


async def test_beside_an_insert_in_flight_small_batches_wait_and_go_in_one_insert(
    tenant: Tenant, state: AppState
) -> None:
    """A commit too small to pay for an insert of its own (each costs the store a fixed ~10 ms) does not
    start beside one in flight: it waits for it to end and takes what queued meanwhile (ingest/writer.py)."""
    from ingest import vellum
    from storage.postgres.keys import ensure_tenant

    tenant_id = await ensure_tenant(state.pg, tenant.name)
    writer = state.writer
    before = writer.inserts
    writes = []
    for _ in range(4):  # one after the other: each batch is queued and taken before the next comes
        writes.append(asyncio.create_task(writer.write(tenant_id, vellum.adapt([_vellum()]))))
        for _ in range(3):
            await asyncio.sleep(0)
    await asyncio.gather(*writes)
    assert writer.inserts - before == 2  # one each would be 4 (up to TRACEHOUSE_INSERT_PARALLEL at once)
    assert await _count(tenant) == 4


async def test_a_small_batch_does_not_wait_for_a_big_insert_in_flight(
    tenant: Tenant, state: AppState, settings: Settings
) -> None:
    """The hold above is only beside inserts that end soon: beside a big one (here 30,000 rows of another
    tenant) a single event is inserted at once and acknowledged before the big insert ends, and what is
    acknowledged is already stored. (A writer of its own over two chDB handles of the same store: the
    shared app has one, on which inserts queue whatever the writer does.)"""
    from ingest import vellum
    from ingest.writer import HOLD_BESIDE_MAX_ROWS, GroupCommitWriter
    from storage.clickhouse.client import ChdbClickHouse
    from storage.postgres.keys import ensure_tenant

    ch = ChdbClickHouse(settings.clickhouse_url, 2)
    writer = GroupCommitWriter(ch, state.pg)
    writer.start()
    try:
        tenant_id = await ensure_tenant(state.pg, tenant.name)
        other = await ensure_tenant(state.pg, f"{tenant.name}-big")
        big_rows = 3 * HOLD_BESIDE_MAX_ROWS
        big = asyncio.create_task(writer.write(other, vellum.adapt([_vellum() for _ in range(big_rows)])))  # noqa: RUF006 (awaited below)
        deadline = asyncio.get_running_loop().time() + 30
        while big_rows not in writer._inflight_rows.values():  # the big commit is in flight
            assert asyncio.get_running_loop().time() < deadline and not big.done()
            await asyncio.sleep(0.001)
        await writer.write(tenant_id, vellum.adapt([_vellum()]))
        assert not big.done()
        assert await _count(tenant) == 1
        await big
        assert writer.inserts == 2
    finally:
        await writer.stop()
        await ch.close()
