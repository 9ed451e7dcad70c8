"""/healthz: the process is alive. /readyz: both stores answer and can take writes (503 with the reasons
otherwise: a store down, read-only, or a disk below TRACEHOUSE_MIN_FREE_DISK_MB). /metrics: Prometheus."""

from __future__ import annotations

import asyncio
import hmac
import logging
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import Response

from server.metrics import CONTENT_TYPE
from server.request_body import app_state
from server.responses import JSON
from server.state import AppState, DiskState

router = APIRouter()
log = logging.getLogger(__name__)
MB = 1024 * 1024


@router.get("/healthz", tags=["health"])
async def healthz() -> JSON:
    return JSON({"status": "ok"})


async def _clickhouse(state: AppState) -> tuple[bool, DiskState | None]:
    """Does it answer, and its disk state when this user may read system.disks (else not checked)."""
    try:
        async with asyncio.timeout(2):
            if not await state.ch.ping():
                return False, None
    except TimeoutError:
        return False, None
    try:
        async with asyncio.timeout(2):
            return True, await state.clickhouse_disks()
    except Exception as exc:
        log.debug("readyz: no disk state from clickhouse: %s", exc)
        return True, None


def _data_dir_problem(data_dir: Path, min_free: int) -> str | None:
    """The embedded stores live here: too little room, or no way to write a file, is not ready."""
    try:
        free = shutil.disk_usage(data_dir).free
        if free < min_free:
            return f"data dir {data_dir} has {free // MB} MB free, below TRACEHOUSE_MIN_FREE_DISK_MB={min_free // MB}"
        with tempfile.TemporaryFile(dir=data_dir) as probe:
            probe.write(b"1")
            probe.flush()
    except OSError as exc:
        return f"data dir {data_dir} is not writable: {exc}"
    return None


@router.get("/readyz", tags=["health"])
async def readyz(request: Request) -> JSON:
    state = app_state(request)
    min_free = state.settings.min_free_disk_mb * MB
    (ch_ok, ch), pg = await asyncio.gather(_clickhouse(state), state.postgres_state())
    reasons: list[str] = []
    if not ch_ok:
        reasons.append("clickhouse does not answer")
    elif ch is None:
        pass  # answers, but this user may not read system.disks: nothing more to check
    elif not ch.writable:
        reasons.append("clickhouse user is readonly")
    elif ch.free_bytes < min_free:
        reasons.append(
            f"clickhouse disk has {ch.free_bytes // MB} MB free, below TRACEHOUSE_MIN_FREE_DISK_MB={min_free // MB}"
        )
    if pg is None:
        reasons.append("postgres does not answer")
    elif not pg:
        reasons.append("postgres is read-only (a standby, or default_transaction_read_only)")
    if state.embedded is not None or state.settings.clickhouse_url.startswith("chdb:"):
        problem = await asyncio.to_thread(_data_dir_problem, state.settings.data_dir, min_free)
        if problem is not None:
            reasons.append(problem)
    body: dict[str, object] = {"status": "ok", "clickhouse": ch_ok, "postgres": pg is not None}
    if reasons:
        body.update(status="unavailable", reasons=reasons)
    return JSON(body, status_code=503 if reasons else 200)


@router.get("/metrics", tags=["health"])
async def metrics(request: Request) -> Response:
    """Prometheus text format, for `Authorization: Bearer <TRACEHOUSE_METRICS_TOKEN>` only: the counters
    span every tenant, so no tenant's API key (admin or not) reads them. Without a token it is off."""
    state = app_state(request)
    token = state.settings.metrics_token
    if not token:
        return JSON({"detail": "metrics are off: set TRACEHOUSE_METRICS_TOKEN and scrape with it"}, status_code=403)
    scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return JSON(
            {"detail": "send the metrics token: Authorization: Bearer <TRACEHOUSE_METRICS_TOKEN>"},
            status_code=401, headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)
