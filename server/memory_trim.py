"""Gives memory back to the OS after big responses: an ASGI middleware that counts the body bytes of each
HTTP response and, after one of at least `min_bytes`, trims malloc's arenas (adapters/glibc_malloc.py).

What it promises: at most one trim runs at a time, off the event loop (malloc_trim walks every arena, a few
to tens of milliseconds); a response that ends while one runs asks for one more, so the last big response
is always followed by a trim. Where malloc_trim does not exist (not glibc) it logs that once at start and
does nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters import glibc_malloc

log = logging.getLogger(__name__)


class Trimmer:
    def __init__(self, trim: Callable[[], bool] | None) -> None:
        self._trim = trim
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self.trims = 0  # how many trims ran: /metrics shows it

    @classmethod
    def for_this_libc(cls) -> Trimmer:
        try:
            return cls(glibc_malloc.load())
        except glibc_malloc.UnsupportedLibc as exc:
            log.warning("memory is not trimmed after big responses: %s", exc)
            return cls(None)

    def request(self) -> None:
        """Trim soon; coalesces with a trim already under way (which then runs once more)."""
        if self._trim is None:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run(self._trim), name="malloc-trim")

    async def _run(self, trim: Callable[[], bool]) -> None:
        again = True
        while again:
            self._again = False
            try:
                await asyncio.to_thread(trim)
            except Exception:  # a failed trim costs memory, never a request
                log.exception("malloc_trim failed")
                return
            self.trims += 1
            again = self._again


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
