"""Keeps ClickHouse's retention TTL in step with the per-tenant settings in Postgres.

`tracehouse tenants set-retention` only writes Postgres (it may run while the server holds the embedded
ClickHouse); every server checks the settings at start and then every TRACEHOUSE_RETENTION_CHECK_SECONDS,
and applies a change to the tables (storage/clickhouse/retention.py). Replicas may all check: an unchanged
setting costs one read of each store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from storage.clickhouse import retention as ch_retention
from storage.clickhouse.client import ClickHouse
from storage.postgres import retention as pg_retention
from storage.postgres.connections import PgPool

log = logging.getLogger(__name__)


class RetentionEnforcer:
    def __init__(self, ch: ClickHouse, pg: PgPool, default_days: int | None, interval_seconds: float) -> None:
        self._ch = ch
        self._pg = pg
        self.default_days = default_days or 0  # 0: keep forever
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    async def check(self, wait: bool = False) -> list[str]:
        """Apply the current settings if they changed; returns the tables whose TTL changed. `wait`: return
        once the stored data is rewritten (else ClickHouse rewrites it in the background)."""
        days = await pg_retention.retention_days(self._pg)
        changed = await ch_retention.apply_retention(self._ch, days, self.default_days, wait)
        if changed:
            log.info("retention applied to %s: %d tenants with their own, default %s days", ", ".join(changed),
                     len(days), self.default_days or "unlimited")  # fmt: skip
        return changed

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.check()
            except Exception as exc:  # a store down now and then: the next check tries again
                log.warning("retention check failed: %s", exc)
