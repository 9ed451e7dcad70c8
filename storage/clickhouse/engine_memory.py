"""Hands chDB's freed query memory back to the OS right after a big read, instead of seconds later.

Why: chDB (ClickHouse inside this process) allocates through its own jemalloc, not glibc's malloc, so the
server's malloc_trim never reaches it; jemalloc returns freed pages only after its decay time. A 50,000-span
read freed ~80 MiB that stayed resident for ~5 s, all through the building of the response that read was
for: it was a third of the RSS rise while that response was served. `SYSTEM JEMALLOC PURGE` returns them at
once (~15 ms, off the event loop, beside the response being built).

What it promises: at most one purge runs at a time; a request while one runs asks for one more, so the last
big read is always followed by a purge. An engine that refuses the statement (a build without jemalloc) is
logged once and never asked again: a purge that fails costs memory, never a request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

PURGE = "SYSTEM JEMALLOC PURGE"


class MemoryPurge:
    def __init__(self, purge: Callable[[], Awaitable[None]]) -> None:
        self._purge: Callable[[], Awaitable[None]] | None = purge
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self.requested = 0  # requests, each coalesced into a purge under way or the next one
        self.purges = 0  # purges that ran

    def request(self) -> None:
        """Purge soon, off the caller's path."""
        if self._purge is None:
            return
        self.requested += 1
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run(self._purge), name="chdb-memory-purge")

    async def _run(self, purge: Callable[[], Awaitable[None]]) -> None:
        again = True
        while again:
            self._again = False
            try:
                await purge()
            except Exception:
                log.exception("chDB refused %r: its freed query memory goes back to the OS only with time", PURGE)
                self._purge = None
                return
            self.purges += 1
            again = self._again

    async def wait(self) -> None:
        """Until the purge under way (if any) is done: for a clean close."""
        if self._task is not None:
            await asyncio.wait([self._task])
