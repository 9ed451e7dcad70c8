"""The outermost middleware: a request id for every request (honouring X-Request-ID), one log line and
one metrics observation per request."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.request_id import request_id, request_info

log = logging.getLogger("tracehouse.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _VALID_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


class ObserveMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope)
        request_id.set(rid)
        info: dict[str, str] = {}
        request_info.set(info)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        if scope["type"] == "websocket":  # every live message passes here: no wrapping
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, info, status, time.perf_counter() - started)

    @staticmethod
    def _record(scope: Scope, info: dict[str, str], status: int, seconds: float) -> None:
        route: Any = scope.get("route")
        # Strawberry's routes are plain Starlette routes, which leave no `route` in the scope.
        path = getattr(route, "path", None) or ("/graphql" if scope["path"] == "/graphql" else "unmatched")
        operation = info.get("operation", "")
        app = scope.get("app")
        state = getattr(getattr(app, "state", None), "tracehouse", None)
        if state is not None:
            state.metrics.observe(path, scope["method"], operation, status, seconds)
            if status in (400, 413, 422):
                state.metrics.reject(path)
        log.info(
            "%s %s %s %.1fms%s", scope["method"], scope["path"], status, seconds * 1000,
            f" ({operation})" if operation else "",
        )  # fmt: skip
