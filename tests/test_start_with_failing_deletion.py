"""A server starts even when a deletion left pending by the last stop cannot be re-applied: that one stays
pending (tried again at the next start) and says why in the log, the pending deletions after it are
finished, and the server serves. Its own Postgres database, so the deletion that keeps failing stays out
of every other test server's start."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import httpx

from storage.postgres import deletions, keys
from storage.postgres import migrations as pg_migrations
from tests.databases import own_database
from tests.process import ServerProcess

KEY = "th_failing_deletion_bootstrap"


async def test_a_pending_deletion_that_fails_does_not_keep_the_server_from_starting(
    tmp_path: Path, database_url: str
) -> None:
    tenant = f"failing-{uuid.uuid4().hex[:8]}"
    async with own_database(database_url, "failing_deletion") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            await pg_migrations.migrate(conn)
            key = await keys.create_key(conn, tenant)
            tenant_id = await keys.ensure_tenant(conn, tenant)
            # what a stop leaves: an intent recorded, not finished. The first cannot be re-applied (its time
            # does not parse, as a record written by another version might not); the second can.
            failing = await deletions.record_pending(conn, tenant_id, "k", "events", {"from": "not a time"})
            fine = await deletions.record_pending(conn, tenant_id, "k", "executions", {"ids": ["gone-1"]})
        finally:
            await conn.close()

        # returns once /healthz answers; raises if the process exits
        with ServerProcess(tmp_path / "data", KEY, {"TRACEHOUSE_DATABASE_URL": dsn}) as server:
            async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}, timeout=60) as client:
                assert (await client.get("/readyz")).status_code == 200
                body = (await client.post("/graphql", json={"query": "{ deletions { id state filter } }"})).json()
            assert "errors" not in body, body
            states = {int(d["id"]): (d["state"], d["filter"]) for d in body["data"]["deletions"]}
            assert states == {failing: ("PENDING", {"from": "not a time"}), fine: ("DONE", {"ids": ["gone-1"]})}
            assert f"deletion {failing} could not be re-applied; it stays pending" in server.log.read_text()
