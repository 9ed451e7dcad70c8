"""Keeps the embedded Postgres running: when its postmaster dies (OOM killer, kill -9, a crash), start it
again in place, with exponential backoff between failed attempts, logging each one.

Nothing else has to know: the restarted server listens on the same socket, so the asyncpg pool replaces
its broken connections on the next acquire and the live bus listener reconnects by itself; in between,
requests that need Postgres get 503 with Retry-After. A server given by TRACEHOUSE_DATABASE_URL is not
ours to restart and is not supervised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from storage.postgres.embedded import EmbeddedPostgres

log = logging.getLogger(__name__)


class PostgresSupervisor:
    def __init__(
        self, embedded: EmbeddedPostgres, interval: float = 0.5, first_delay: float = 0.5, max_delay: float = 30.0
    ) -> None:
        self.embedded = embedded
        self.interval = interval  # how often the postmaster is looked at (a pid check, no query)
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.restarts = 0  # successful restarts since start-up (exposed on /metrics)
        self._delay = first_delay
        self._restarted_at: float | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="postgres-supervisor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                if not await asyncio.to_thread(self.embedded.alive):
                    await self._restart()
            except asyncio.CancelledError:
                raise
            except Exception:  # the watch must outlive any one surprise
                log.exception("supervising the embedded postgres failed; still watching")

    async def _restart(self) -> None:
        """Try until the server runs again; the wait doubles after each failure, up to max_delay. A server
        that dies again within a minute of its restart keeps the grown wait: a crash loop is not hammered."""
        died = time.monotonic()
        again = self._restarted_at is not None and died - self._restarted_at < 60
        delay = min(self._delay * 2, self.max_delay) if again else self.first_delay
        log.error(
            "embedded postgres in %s is not running; restarting it%s",
            self.embedded.pgdata, f" in {delay:.1f}s (it died again soon after a restart)" if again else "",
        )  # fmt: skip
        if again:
            await asyncio.sleep(delay)
        attempt = 0
        while True:
            attempt += 1
            try:
                await asyncio.to_thread(self.embedded.restart)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("restart %d of embedded postgres failed (%s); next try in %.1fs", attempt, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_delay)
                continue
            self.restarts += 1
            self._delay = delay
            self._restarted_at = time.monotonic()
            log.warning(
                "embedded postgres restarted (attempt %d, %.1fs after it was found dead, pid %s)",
                attempt, self._restarted_at - died, self.embedded.postmaster_pid(),
            )  # fmt: skip
            return
