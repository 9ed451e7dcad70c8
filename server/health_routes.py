"""/healthz: the process is alive. /readyz: both stores answer (503 otherwise). /metrics: Prometheus."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import Response

from server.request_body import app_state
from server.responses import JSON

router = APIRouter()


@router.get("/healthz", tags=["health"])
async def healthz() -> JSON:
    return JSON({"status": "ok"})


async def _postgres_ok(request: Request) -> bool:
    try:
        async with asyncio.timeout(2):
            return await app_state(request).pg.fetchval("SELECT 1") == 1
    except Exception:
        return False


@router.get("/readyz", tags=["health"])
async def readyz(request: Request) -> JSON:
    ch_ok, pg_ok = await asyncio.gather(app_state(request).ch.ping(), _postgres_ok(request))
    body = {"status": "ok" if ch_ok and pg_ok else "unavailable", "clickhouse": ch_ok, "postgres": pg_ok}
    return JSON(body, status_code=200 if ch_ok and pg_ok else 503)


@router.get("/metrics", tags=["health"])
async def metrics(request: Request) -> Response:
    """Prometheus text format; needs an `admin` key."""
    state = app_state(request)
    subscriptions = state.bus.subscriber_count if state.bus is not None else 0
    body = state.metrics.render(state.writer.rows, state.writer.inserts, subscriptions)
    return Response(body, media_type="text/plain; version=0.0.4")
