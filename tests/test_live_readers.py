"""The live bus builds a commit's message only when it can have a reader: a subscriber in any process now,
or a cursor handed out within the retention window. Real Postgres and chDB (the session's app)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from server.state import AppState
from storage.postgres.live_bus import LiveBus
from tests.conftest import Tenant


async def tenant_id(state: AppState, tenant: Tenant) -> str:
    return str(await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name))


async def logged(state: AppState, tid: str) -> int:
    return int(await state.pg.fetchval("SELECT count(*) FROM live_messages WHERE tenant_id = $1", tid))


async def ingest(tenant: Tenant, name: str) -> None:
    response = await tenant.http.post("/api/v1/events", json=[{"eventType": name}, {"eventType": name}])
    assert response.status_code == 200, response.text


async def test_a_tenant_nobody_watches_gets_no_messages_and_one_that_is_watched_does(
    state: AppState, tenant: Tenant
) -> None:
    bus = state.bus
    assert bus is not None
    tid = await tenant_id(state, tenant)
    skipped = bus.skipped
    await ingest(tenant, "unwatched.tick")
    assert await logged(state, tid) == 0
    assert bus.skipped > skipped

    subscriber = bus.subscribe(tid)
    await bus.watch(tid)
    try:
        await ingest(tenant, "watched.tick")
        message = await asyncio.wait_for(subscriber.queue.get(), 10)
        assert message.tenant_id == tid and message.id > 0
        assert await logged(state, tid) == 1
    finally:
        bus.unsubscribe(subscriber)
    # No one subscribed now, but the cursor handed out above can still be resumed: the log goes on.
    await ingest(tenant, "after.tick")
    assert await logged(state, tid) == 2
    replayed = await bus.replay(tid, 0)
    assert [m.tenant_id for m in replayed] == [tid, tid], "replays never see the watch markers"
    markers = await state.pg.fetchval("SELECT count(*) FROM live_watches WHERE tenant_id = $1", tid)
    assert markers == 1, "one marker row per tenant and process, marked again in place"


async def test_another_process_sees_the_watch_and_a_marker_past_the_retention_window_counts_for_nothing(
    state: AppState, tenant: Tenant, other_tenant: Tenant
) -> None:
    """A second bus on the same Postgres (as in another server process, never started here) learns from
    the marker alone that this tenant has a reader; the tenant nobody watches stays unwatched."""
    bus = state.bus
    assert bus is not None
    watched, unwatched = await tenant_id(state, tenant), await tenant_id(state, other_tenant)
    subscriber = bus.subscribe(watched)
    try:
        await bus.watch(watched)
        elsewhere = LiveBus(state.pg, "unused", retention=timedelta(hours=1))
        assert await elsewhere.readers({watched, unwatched}) == {watched}
        short = LiveBus(state.pg, "unused", retention=timedelta(microseconds=1))
        assert await short.readers({watched, unwatched}) == set()
    finally:
        bus.unsubscribe(subscriber)


async def test_a_publisher_that_trusted_no_marker_sees_the_new_one_by_the_time_its_watcher_reads(
    state: AppState, tenant: Tenant
) -> None:
    """Another process's bus looked and found no marker (and trusts that for a moment); a subscriber here
    marks the tenant and waits that moment out before reading, so that bus's next commit publishes."""
    bus = state.bus
    assert bus is not None
    tid = await tenant_id(state, tenant)
    elsewhere = LiveBus(state.pg, "unused")
    assert await elsewhere.readers({tid}) == set()  # no marker yet: trusted for NO_READER_SECONDS
    subscriber = bus.subscribe(tid)
    try:
        await bus.watch(tid)
        assert await elsewhere.readers({tid}) == {tid}
    finally:
        bus.unsubscribe(subscriber)


async def test_a_long_lived_subscriber_stays_watched_past_a_short_retention_window(
    state: AppState, tenant: Tenant, database_url: str
) -> None:
    """A process re-marks its subscribers' tenants often enough that their marker never ages past the retention
    window (TRACEHOUSE_LIVE_RETENTION_SECONDS may be shorter than the default marking interval): another
    process still publishes for it, and pruning never takes the marker."""
    tid = await tenant_id(state, tenant)
    retention = timedelta(seconds=3)
    bus = LiveBus(state.pg, database_url, retention=retention)
    bus.start()
    subscriber = bus.subscribe(tid)
    try:
        await bus.watch(tid)
        marked = "SELECT marked_at FROM live_watches WHERE tenant_id = $1 AND origin = $2"
        first = await state.pg.fetchval(marked, tid, bus.origin)
        deadline = asyncio.get_running_loop().time() + 60
        while await state.pg.fetchval("SELECT now() - $1::timestamptz <= $2::interval", first, retention * 1.5):
            assert asyncio.get_running_loop().time() < deadline, "the window never passed"
            await asyncio.sleep(0.1)
        elsewhere = LiveBus(state.pg, "unused", retention=retention)
        assert await elsewhere.readers({tid}) == {tid}, "another process must still publish for the subscriber"
        assert await state.pg.fetchval(marked, tid, bus.origin) > first
    finally:
        bus.unsubscribe(subscriber)
        await bus.stop()
