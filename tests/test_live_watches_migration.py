"""Postgres migration 4 on a database written before it: the watch markers that were rows of `live_messages`
(key `watch:<tenant>`) move to `live_watches`, the latest per tenant and process, so a tenant watched before
the upgrade is still watched after it and the log holds messages only. A database of its own on the test
Postgres, so the upgrade starts from the old schema."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from storage.postgres import migrations
from storage.postgres.live_bus import LiveBus
from tests.databases import own_database


@pytest.fixture
async def old_database(database_url: str) -> AsyncIterator[str]:
    async with own_database(database_url, "live_watches") as dsn:
        yield dsn


async def test_markers_move_to_their_table_and_keep_their_tenant_watched(
    old_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    watched, old, unwatched = (str(uuid.uuid4()) for _ in range(3))
    conn = await asyncpg.connect(old_database)
    try:
        monkeypatch.setattr(migrations, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] < 4])
        assert await migrations.migrate(conn) == [1, 2, 3]
        mark = (
            "INSERT INTO live_messages (tenant_id, origin, body, created_at) "
            "VALUES ($1, $2, '', now() - $3::interval)"
        )
        await conn.execute(mark, f"watch:{watched}", "p1", timedelta(minutes=20))
        await conn.execute(mark, f"watch:{watched}", "p1", timedelta(minutes=5))  # the latest of p1's
        await conn.execute(mark, f"watch:{watched}", "p2", timedelta(minutes=50))
        await conn.execute(mark, f"watch:{old}", "p1", timedelta(hours=2))  # past a 1-hour window
        await conn.execute(
            "INSERT INTO live_messages (tenant_id, origin, body) VALUES ($1, 'p1', '\\x01'::bytea)", watched
        )
        monkeypatch.undo()
        assert (await migrations.migrate(conn))[0] == 4  # and every later one
        assert await migrations.migrate(conn) == []

        markers = await conn.fetch(
            "SELECT tenant_id, origin, round(extract(epoch FROM now() - marked_at) / 60) AS minutes "
            "FROM live_watches ORDER BY tenant_id, origin"
        )
        assert sorted((r["tenant_id"], r["origin"], r["minutes"]) for r in markers) == sorted(
            [(watched, "p1", 5), (watched, "p2", 50), (old, "p1", 120)]
        )
        assert [r["tenant_id"] for r in await conn.fetch("SELECT tenant_id FROM live_messages")] == [watched]
    finally:
        await conn.close()

    pool = await asyncpg.create_pool(old_database, min_size=1, max_size=2)
    try:
        bus = LiveBus(pool, "unused", retention=timedelta(hours=1))  # never started: it only looks
        assert await bus.readers({watched, old, unwatched}) == {watched}
        replayed = await bus.replay(watched, 0)
        assert [m.body for m in replayed] == [b"\x01"]
    finally:
        await pool.close()


async def test_pruning_drops_old_messages_and_markers_in_one_statement(old_database: str) -> None:
    pool = await asyncpg.create_pool(old_database, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await migrations.migrate(conn)
        tenant = str(uuid.uuid4())
        message = (
            "INSERT INTO live_messages (tenant_id, origin, body, created_at) VALUES ($1, 'p', '', now() - $2::interval)"
        )
        watch = "INSERT INTO live_watches (tenant_id, origin, marked_at) VALUES ($1, $2, now() - $3::interval)"
        await pool.execute(message, tenant, timedelta(hours=2))
        await pool.execute(message, tenant, timedelta(minutes=1))
        await pool.execute(watch, tenant, "old", timedelta(hours=2))
        await pool.execute(watch, tenant, "new", timedelta(minutes=1))
        await LiveBus(pool, "unused", retention=timedelta(hours=1)).prune_once()
        assert await pool.fetchval("SELECT count(*) FROM live_messages") == 1
        assert await pool.fetch("SELECT origin FROM live_watches") == [("new",)]
    finally:
        await pool.close()
