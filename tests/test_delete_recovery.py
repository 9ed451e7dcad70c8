"""A stop in the middle of a delete loses neither the delete nor the data it did not cover: the server is
killed (-9) while a deletion runs, and a restarted server finishes it before it serves; and a crash between
the two tables of a batch is redone from the batch the record names."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from graph.delete_mutations import resume_pending
from server.state import AppState
from storage.clickhouse import deletes as ch_deletes
from storage.clickhouse.executions import ExecutionQuery
from storage.postgres import deletions, keys
from tests.conftest import Tenant
from tests.process import ServerProcess

KEY = "th_delete_recovery_bootstrap"
DOOMED, KEPT = 3000, 300


def _spans(prefix: str, n: int, name: str) -> list[dict[str, Any]]:
    return [
        {"id": f"s{i}", "executionId": f"{prefix}-{i}", "name": name, "status": "SUCCEEDED",
         "startTime": "2026-11-01T10:00:00Z", "endTime": "2026-11-01T10:00:01Z"}
        for i in range(n)
    ]  # fmt: skip


async def _gql(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = (await client.post("/graphql", json={"query": query, "variables": variables or {}})).json()
    assert "errors" not in body, body
    return body["data"]


async def _count(client: httpx.AsyncClient, name: str) -> int:
    query = "query($n: String) { executions(filter: {name: $n}) { totalCount } }"
    return int((await _gql(client, query, {"n": name}))["executions"]["totalCount"])


LOG = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }"
DELETE = 'mutation { deleteExecutionsByFilter(filter: {name: "doomed"}) { executions } }'


async def test_killed_during_a_delete_the_restarted_server_finishes_it(tmp_path: Path, database_url: str) -> None:
    tenant = f"recover-{uuid.uuid4().hex[:8]}"
    server = ServerProcess(tmp_path / "data", KEY, {"TRACEHOUSE_DATABASE_URL": database_url})
    server.start()  # first: it migrates the database
    conn = await asyncpg.connect(database_url)
    try:
        key = await keys.create_key(conn, tenant)
        tenant_id = await keys.ensure_tenant(conn, tenant)
        async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}, timeout=120) as client:
            doomed = _spans("doomed", DOOMED, "doomed")
            for start in range(0, DOOMED, 1000):
                await _gql(client, LOG, {"s": doomed[start : start + 1000]})
            await _gql(client, LOG, {"s": _spans("kept", KEPT, "kept")})
            assert (await _count(client, "doomed"), await _count(client, "kept")) == (DOOMED, KEPT)

            request = asyncio.create_task(client.post("/graphql", json={"query": DELETE}))
            deadline = time.monotonic() + 60
            while not await conn.fetchval("SELECT count(*) FROM deletions WHERE tenant_id = $1", tenant_id):
                assert time.monotonic() < deadline, "the deletion was never recorded"
            assert server.proc is not None
            server.proc.kill()  # kill -9: no shutdown, mid-delete
            server.proc.wait()
            server.proc = None
            with pytest.raises(httpx.HTTPError):  # the server died under the request: it never answered
                await request
        state = await conn.fetchval("SELECT state FROM deletions WHERE tenant_id = $1", tenant_id)
        assert state == "pending"

        server.start()  # finishes the pending deletion before it serves
        async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}, timeout=60) as again:
            assert (await _count(again, "doomed"), await _count(again, "kept")) == (0, KEPT)
            record = (await _gql(again, "{ deletions { state executions filter } }"))["deletions"]
            assert record == [{"state": "DONE", "executions": DOOMED, "filter": {"name": "doomed"}}]
    finally:
        server.stop()
        await conn.close()


async def test_a_batch_cut_between_its_two_tables_is_redone(tenant: Tenant, state: AppState) -> None:
    """The record names the batch being deleted: a filter over events (here the actor) no longer matches an
    execution whose events are gone, so without that name its spans would stay behind."""
    spans = _spans("cut", 2, "cut")
    await tenant.gql_data("mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }", {"s": spans})
    await tenant.gql_data(
        "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }",
        {"e": [{"name": "started", "executionId": "cut-0", "actor": {"type": "user", "id": "ann"}}]},
    )
    principal = await keys.find_principal(state.pg, tenant.key)
    assert principal is not None
    f = {"actorType": "user", "actorId": "ann"}
    by_actor = ExecutionQuery(actor_type="user", actor_id="ann")
    # the state a crash leaves after the batch's events went and before its spans did
    deletion_id = await deletions.record_pending(state.pg, principal.tenant_id, principal.key_id, "executions", f)
    await deletions.start_batch(state.pg, deletion_id, ["cut-0"], 2, 1)
    await state.ch.command(
        "DELETE FROM events WHERE tenant_id = {t:String} AND execution_id = 'cut-0'", {"t": principal.tenant_id}
    )
    assert await ch_deletes.execution_ids(state.ch, principal.tenant_id, by_actor, (None, None), 10) == []
    assert (await tenant.gql_data('{ execution(id: "cut-0") { id } }'))["execution"] == {"id": "cut-0"}

    assert state.bus is not None
    assert await resume_pending(state.ch, state.pg, state.bus) >= 1
    found = await tenant.gql_data('{ a: execution(id: "cut-0") { id } b: execution(id: "cut-1") { id } }')
    assert found == {"a": None, "b": {"id": "cut-1"}}
    [record] = await deletions.list_deletions(state.pg, principal.tenant_id, 10)
    assert (record.state, record.executions, record.events, record.execution_ids) == ("done", 1, 2, [])
