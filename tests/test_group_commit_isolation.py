"""One tenant's bad rows must not fail the others coalesced into the same group commit; a store that is
down still fails everyone with 503. Through the writer on the real stores, and through a real server."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ingest import writer as writer_module
from ingest.records import Batch, CanonicalEvent, SpanPiece
from ingest.writer import RowsRefused
from server.state import AppState
from storage.errors import StoreUnavailable
from tests.conftest import Tenant
from tests.process import ServerProcess
from tests.test_ingest_guarantees import FailingInserts


async def _tenant_id(state: AppState, tenant: Tenant) -> str:
    return str(await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name))


def _batch(tag: str, actor: str = "", resource: str = "", span: SpanPiece | None = None) -> Batch:
    event = CanonicalEvent(
        id=f"{tag}-{uuid.uuid4()}", name="isolation.test", timestamp=datetime.now(UTC), source="test",
        actor_type="user" if actor else "", actor_id=actor, resource_type="doc" if resource else "",
        resource_id=resource, execution_id="e" if span else "", span_id="s" if span else "", span=span,
    )  # fmt: skip
    return Batch(events=[event])


async def _stored(state: AppState, tenant_id: str) -> list[str]:
    """Every row of the tenant's test events, without FINAL: a row inserted twice would show twice."""
    rows = await state.ch.query(
        "SELECT id FROM events WHERE tenant_id = {t:String} AND name = 'isolation.test'", {"t": tenant_id}
    )
    return sorted(r[0] for r in rows.rows)


async def _registry(state: AppState, tenant_id: str) -> set[str]:
    rows = await state.pg.fetch(
        "SELECT id FROM actors WHERE tenant_id = $1 UNION ALL SELECT id FROM resources WHERE tenant_id = $1", tenant_id
    )
    return {r["id"] for r in rows}


async def test_a_refused_request_fails_alone_and_leaves_nothing(
    state: AppState, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Batches built past the adapters' validation, which the stores refuse: a NUL in a resource id
    (Postgres) and a token count past UInt64 (ClickHouse). Each also carries a valid actor."""
    a, b = await _tenant_id(state, tenant), await _tenant_id(state, other_tenant)
    good = [
        (a if i % 2 else b, _batch(f"good{i}", actor=f"good-actor-{i}", resource=f"good-doc-{i}")) for i in range(8)
    ]
    refused_pg = (b, _batch("bad-pg", actor="actor-of-bad-pg", resource="doc\x00"))
    refused_ch = (a, _batch("bad-ch", actor="actor-of-bad-ch", span=SpanPiece(name="s", input_tokens=2**64)))
    writes = [*good[:3], refused_pg, *good[3:6], refused_ch, *good[6:]]
    isolations = state.writer.isolations

    # queued in one tick, so they go in one group commit
    results = await asyncio.gather(*(state.writer.write(t, batch) for t, batch in writes), return_exceptions=True)

    outcome = dict(zip((batch.ids[0] for _, batch in writes), results, strict=True))
    for _, batch in good:
        assert outcome[batch.ids[0]] is None
    assert state.writer.isolations > isolations  # they were committed together, and split on the refusal
    for _, batch in (refused_pg, refused_ch):
        error = outcome[batch.ids[0]]
        assert isinstance(error, RowsRefused), error
    for tenant_id in (a, b):  # the others' rows exactly once, none of the refused ones
        expected = sorted(batch.ids[0] for t, batch in good if t == tenant_id)
        assert await _stored(state, tenant_id) == expected
    registry = await _registry(state, a) | await _registry(state, b)
    good_entities = {f"good-actor-{i}" for i in range(8)} | {f"good-doc-{i}" for i in range(8)}
    # nothing of the request Postgres refused; the one ClickHouse refused may leave its actor's sighting
    # (the registry commits just before the insert, see ingest/writer.py)
    assert good_entities <= registry <= good_entities | {"actor-of-bad-ch"}


async def test_a_commit_cancelled_while_postgres_refuses_stays_cancelled(
    state: AppState, tenant: Tenant, monkeypatch: Any
) -> None:
    """The columns are built while Postgres takes the registry rows (ingest/writer.py _flush): a commit cancelled
    then (a shutdown giving up) ends cancelled, not with the registry's refusal (which the group commit would take
    for bad rows and retry in halves), and inserts nothing."""
    tenant_id = await _tenant_id(state, tenant)
    loop = asyncio.get_running_loop()
    built, release = asyncio.Event(), threading.Event()
    real_columns = writer_module.event_columns

    def held_columns(events: Any) -> Any:
        columns = real_columns(events)
        loop.call_soon_threadsafe(built.set)
        release.wait(10)  # still building when the cancel comes: released once the commit ended
        return columns

    monkeypatch.setattr(writer_module, "event_columns", held_columns)
    batch = _batch("cancelled", actor="cancel-actor", resource="doc\x00")  # Postgres refuses the NUL
    commit = asyncio.ensure_future(state.writer._flush([(tenant_id, batch, loop.create_future())]))
    try:
        await asyncio.wait_for(built.wait(), 10)
        commit.cancel()
        done, _ = await asyncio.wait({commit}, timeout=10)
    finally:
        release.set()
    assert commit in done and commit.cancelled(), commit
    assert await _stored(state, tenant_id) == []


async def test_a_store_that_is_down_fails_every_request_with_503(state: AppState, tenant: Tenant) -> None:
    tenant_id = await _tenant_id(state, tenant)
    isolations = state.writer.isolations
    real = state.writer._ch
    state.writer._ch = FailingInserts(real)  # type: ignore[assignment]
    try:
        batches = [_batch(f"down{i}", actor=f"down-actor-{i}") for i in range(5)]
        results = await asyncio.gather(*(state.writer.write(tenant_id, b) for b in batches), return_exceptions=True)
    finally:
        state.writer._ch = real
    assert all(isinstance(r, StoreUnavailable) for r in results), results
    assert state.writer.isolations == isolations  # an outage is not retried request by request
    assert await _stored(state, tenant_id) == []  # (sightings may stay: the registry commits before the insert)


AUDIT_A = 300
GRAPHQL_A = 300
INGEST = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }"


def test_one_tenant_sending_nul_bytes_fails_none_of_another_tenants_writes(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", "th_isolation_a")
    server.start()
    try:
        out = subprocess.run(
            [str(Path(sys.executable).parent / "tracehouse"), "keys", "create", "--tenant", "nul-sender"],
            env=server.env, capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        key_b = out.stdout.strip().splitlines()[-1]
        a_results, b_results = asyncio.run(_write_concurrently(server, key_b))
        a_failures = [r for r in a_results if r != "ok"]
        assert a_failures == [], a_failures[:5]
        assert set(b_results) == {"refused"}, b_results[:5]
        with server.client() as client:
            listed = client.get("/api/v1/events", params={"event_type": "isolation.a", "limit": 1}).json()
            assert listed["total"] == AUDIT_A + GRAPHQL_A
        with httpx.Client(base_url=server.url, headers={"X-API-Key": key_b}) as client:
            assert client.get("/api/v1/events", params={"limit": 1}).json()["total"] == 0
    finally:
        server.stop()


async def _write_concurrently(server: ServerProcess, key_b: str) -> tuple[list[str], list[str]]:
    limits = asyncio.Semaphore(48)

    async def send(client: httpx.AsyncClient, path: str, body: Any) -> str:
        async with limits:
            try:
                response = await client.post(path, json=body)
            except httpx.TransportError as exc:  # counted as a failure, with its reason
                return f"no response: {exc!r}"
        if path == "/graphql":
            errors = response.json().get("errors") if response.status_code == 200 else None
            if not errors:
                return "ok" if response.status_code == 200 else f"{response.status_code} {response.text[:200]}"
            return "refused" if errors[0].get("extensions", {}).get("code") == "BAD_USER_INPUT" else str(errors[0])
        if response.status_code == 422 or (response.status_code == 400 and path == "/monitoring/v1/events"):
            return "refused"  # the Vellum path answers 400, as its document lists
        return "ok" if response.status_code == 200 else f"{response.status_code} {response.text[:200]}"

    nul_definition = {"name": "workflow.execution.initiated", "trace_id": "t", "span_id": "s",
                      "body": {"workflow_definition": {"id": "wf\x00", "name": "Flow"}}}  # fmt: skip
    b_bodies: list[tuple[str, Any]] = []
    for i in range(50):
        b_bodies.append(("/api/v1/events", {"eventType": "isolation.b", "actorType": "user", "actorId": f"b\x00{i}"}))
        b_bodies.append(("/monitoring/v1/events", [nul_definition]))
        variables = {"e": [{"name": "isolation.b", "resource": {"type": "doc", "id": f"\x00{i}"}}]}
        b_bodies.append(("/graphql", {"query": INGEST, "variables": variables}))
    a_bodies: list[tuple[str, Any]] = []
    for i in range(AUDIT_A):
        audit = {"id": f"a-rest-{i}", "eventType": "isolation.a", "actorType": "user", "actorId": f"a-{i % 7}",
                 "resourceType": "doc", "resourceId": f"d-{i % 5}"}  # fmt: skip
        a_bodies.append(("/api/v1/events", audit))
    for i in range(GRAPHQL_A):
        event = {"id": f"a-gql-{i}", "name": "isolation.a", "actor": {"type": "user", "id": f"a-{i % 7}"}}
        a_bodies.append(("/graphql", {"query": INGEST, "variables": {"e": [event]}}))

    timeout = httpx.Timeout(60)
    async with (
        httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": server.api_key}, timeout=timeout) as a,
        httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key_b}, timeout=timeout) as b,
    ):
        # interleaved: B's bad requests land in the same moments (and group commits) as A's
        who: list[str] = []
        tasks = []
        for i, (path, body) in enumerate(a_bodies):
            who.append("a")
            tasks.append(send(a, path, body))
            if i % 4 == 0 and b_bodies:
                who.append("b")
                tasks.append(send(b, *b_bodies.pop()))
        results = await asyncio.gather(*tasks)
    return (
        [r for w, r in zip(who, results, strict=True) if w == "a"],
        [r for w, r in zip(who, results, strict=True) if w == "b"],
    )
