"""Gives memory back to the OS after big responses: an ASGI middleware that counts the body bytes of each
HTTP response and, after one of at least `min_bytes`, trims malloc's arenas (adapters/glibc_malloc.py).

What it promises: at most one trim runs at a time, off the event loop (malloc_trim walks every arena, a few
to tens of milliseconds); a response that ends while one runs asks for one more, so the last big response
is always followed by a trim. Where malloc_trim does not exist (not glibc) it logs that once at start and
does nothing.

A trim waits until big responses have stopped for QUIET_SECONDS (at most LONGEST_SECONDS after the first it
follows): a client walking a big trace page by page sends one request right after the other, and trimming
after each page handed back memory that the next page faulted in again at once (a 50,000-span walk in pages
of 5,000: ~50 ms more server CPU than with one trim after its last page).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters import glibc_malloc

log = logging.getLogger(__name__)


QUIET_SECONDS = 0.5
LONGEST_SECONDS = 5.0


class Trimmer:
    def __init__(self, trim: Callable[[], bool] | None, quiet: float = QUIET_SECONDS,
                 longest: float = LONGEST_SECONDS) -> None:  # fmt: skip
        self._trim = trim
        self._task: asyncio.Task[None] | None = None
        self._quiet, self._longest = quiet, longest
        # the loop times of the first and the last big response not yet followed by a trim (None: none waits)
        self._first: float | None = None
        self._last = 0.0
        self.trims = 0  # how many trims ran: /metrics shows it
        self._closed = False

    @classmethod
    def for_this_libc(cls) -> Trimmer:
        try:
            return cls(glibc_malloc.load())
        except glibc_malloc.UnsupportedLibc as exc:
            log.warning("memory is not trimmed after big responses: %s", exc)
            return cls(None)

    def request(self) -> None:
        """Trim once big responses have been quiet a while; coalesces with a trim waiting or under way (which
        then runs once more)."""
        if self._trim is None or self._closed:
            return
        loop = asyncio.get_running_loop()
        self._last = loop.time()
        if self._first is None:
            self._first = self._last
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(self._trim), name="malloc-trim")

    async def _run(self, trim: Callable[[], bool]) -> None:
        loop = asyncio.get_running_loop()
        while self._first is not None:
            wait = min(self._last + self._quiet, self._first + self._longest) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)  # then again: a later response may have moved the time
                continue
            self._first = None  # a response that ends from now on asks for one more trim
            try:
                await asyncio.to_thread(trim)
            except Exception:  # a failed trim costs memory, never a request
                log.exception("malloc_trim failed")
                return
            self.trims += 1

    async def close(self) -> None:
        """Drops a trim still waiting for quiet (the process is ending); a malloc_trim already running finishes in
        its thread. A response that ends after it asks for none."""
        self._closed = True
        if self._task is not None and not self._task.done():
            self._first = None
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class TrimAfterBigResponses:
    def __init__(self, app: ASGIApp, trimmer: Callable[[], Trimmer | None], min_bytes: int) -> None:
        self.app = app
        self.trimmer = trimmer  # read per request: the lifespan builds it after the middleware stack
        self.min_bytes = min_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.min_bytes <= 0:
            await self.app(scope, receive, send)
            return
        sent = 0

        async def counting(message: Message) -> None:
            nonlocal sent
            if message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            trimmer = self.trimmer() if sent >= self.min_bytes else None
            if trimmer is not None:
                trimmer.request()
