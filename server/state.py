"""What the running server holds: the stores, the writer and the key cache; built in the lifespan."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

import asyncpg

from graph.delete_mutations import resume_pending
from ingest import live_codec
from ingest.prices import PriceTable
from ingest.records import Batch, CanonicalEvent
from ingest.writer import GroupCommitWriter
from server.memory_trim import Trimmer
from server.metrics import Gauges, Metrics
from server.rate_limit import RateLimiter
from server.settings import Settings
from storage.clickhouse import migrations as ch_migrations
from storage.clickhouse.client import ClickHouse, connect_clickhouse
from storage.clickhouse.health import DiskState, disk_state
from storage.postgres import keys
from storage.postgres import migrations as pg_migrations
from storage.postgres.embedded import EmbeddedPostgres
from storage.postgres.health import postgres_state
from storage.postgres.live_bus import LiveBus
from storage.postgres.pool import QueryCounter, create_pool
from storage.postgres.supervisor import PostgresSupervisor
from storage.retention import RetentionEnforcer

log = logging.getLogger(__name__)


@dataclass
class AppState:
    settings: Settings
    ch: ClickHouse
    pg: asyncpg.Pool
    writer: GroupCommitWriter
    embedded: EmbeddedPostgres | None = None
    supervisor: PostgresSupervisor | None = None  # restarts the embedded Postgres if it dies
    pg_counter: QueryCounter = field(default_factory=QueryCounter)
    bus: LiveBus | None = None
    prices: PriceTable = field(default_factory=PriceTable)
    metrics: Metrics = field(default_factory=Metrics)
    rate_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(0))
    key_cache: dict[str, tuple[float, keys.Principal | None]] = field(default_factory=dict)
    retention: RetentionEnforcer | None = None
    trimmer: Trimmer = field(default_factory=lambda: Trimmer(None))  # malloc trims after big responses

    # The stores as the request path uses them: this module is the composition root, the one place in
    # server/ that names storage/ (routes and middleware reach it through these, graph/ and ingest/).
    async def find_principal(self, key: str) -> keys.Principal | None:
        return await keys.find_principal(self.pg, key)

    async def clickhouse_disks(self) -> DiskState:
        return await disk_state(self.ch)

    async def postgres_state(self) -> bool | None:
        """None when Postgres does not answer in time; else whether it accepts writes."""
        return await postgres_state(self.pg)


async def start_postgres(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    if settings.database_url:
        return settings.database_url, None
    embedded = EmbeddedPostgres(settings.embedded_postgres_dir)
    dsn = await asyncio.to_thread(embedded.start)
    return dsn, embedded


async def open_state(settings: Settings) -> AppState:
    dsn, embedded = await start_postgres(settings)
    try:
        counter = QueryCounter()
        pg = await create_pool(dsn, counter)
        async with pg.acquire() as conn:
            await pg_migrations.migrate(conn)
            if settings.bootstrap_api_key:
                tenant_id = await keys.ensure_tenant(conn, keys.DEFAULT_TENANT)
                await keys.add_key(conn, tenant_id, settings.bootstrap_api_key)
        if settings.clickhouse_url.startswith("chdb:"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        ch = await connect_clickhouse(settings.clickhouse_url, settings.clickhouse_pool_size)
        await ch_migrations.migrate(ch)
    except BaseException:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
        raise
    prices = PriceTable.load(settings.model_prices_file)
    writer = GroupCommitWriter(
        ch, pg, parallel=settings.insert_parallel, prices=prices, hold_seconds=settings.commit_hold_ms / 1000
    )
    bus = LiveBus(pg, dsn, settings.subscriber_queue_size, timedelta(seconds=settings.live_retention_seconds))
    writer.listeners.append(partial(publish_live, bus))
    # Before serving: no read may see what a deletion interrupted by a stop was to remove.
    resumed = await resume_pending(ch, pg, bus)
    if resumed:
        log.warning("finished %d deletion(s) left pending by the last stop", resumed)
    retention = RetentionEnforcer(ch, pg, settings.retention_days, settings.retention_check_seconds)
    await retention.check()
    retention.start()
    writer.start()
    bus.start()
    supervisor = PostgresSupervisor(embedded) if embedded is not None else None
    if supervisor is not None:
        supervisor.start()
    metrics = Metrics(settings.metrics_max_operations)
    trimmer = Trimmer.for_this_libc()
    metrics.read_from(
        lambda: Gauges(
            events_ingested=writer.rows,
            clickhouse_inserts=writer.inserts,
            open_subscriptions=bus.subscriber_count,
            postgres_restarts=supervisor.restarts if supervisor is not None else 0,
            malloc_trims=trimmer.trims,
            group_commit_seconds=writer.commit_seconds,
            live_publish_seconds=writer.listener_seconds,
        )
    )
    return AppState(
        settings=settings,
        ch=ch,
        pg=pg,
        writer=writer,
        embedded=embedded,
        supervisor=supervisor,
        pg_counter=counter,
        bus=bus,
        prices=prices,
        metrics=metrics,
        rate_limiter=RateLimiter(settings.rate_limit_per_second),
        retention=retention,
        trimmer=trimmer,
    )


async def publish_live(bus: LiveBus, flushed: list[tuple[str, Batch]]) -> None:
    """After a group commit: one live message per tenant with the events just stored, for the tenants whose
    messages can have a reader (the others cost one indexed lookup per commit, not a message)."""
    by_tenant: dict[str, list[CanonicalEvent]] = {}
    for tenant_id, batch in flushed:
        by_tenant.setdefault(tenant_id, []).extend(batch.events)
    readers = await bus.readers(set(by_tenant))
    for tenant_id, events in by_tenant.items():
        if tenant_id in readers:
            await bus.publish(tenant_id, live_codec.encode(events))


async def close_state(state: AppState) -> None:
    if state.supervisor is not None:  # first: a shutdown must not look like a death to restart from
        await state.supervisor.stop()
    if state.retention is not None:
        await state.retention.stop()
    await state.writer.stop()
    if state.bus is not None:
        await state.bus.stop()
    await state.trimmer.close()
    await state.ch.close()
    await state.pg.close()
    if state.embedded is not None:
        await asyncio.to_thread(state.embedded.stop)
