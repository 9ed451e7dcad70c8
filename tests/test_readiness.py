"""/readyz says whether this replica can take writes: both stores answer, neither is read-only, and the
disks under the data dir and ClickHouse have at least TRACEHOUSE_MIN_FREE_DISK_MB free."""

from __future__ import annotations

import shutil

import asyncpg

from server.state import AppState
from tests.conftest import Tenant


async def test_a_disk_below_the_threshold_is_not_ready_and_says_why(tenant: Tenant, state: AppState) -> None:
    settings = state.settings
    free_mb = shutil.disk_usage(settings.data_dir).free // (1024 * 1024)
    # The real disk, a threshold above what it has free: exactly what a full disk looks like from here.
    state.settings = settings.model_copy(update={"min_free_disk_mb": free_mb + 100_000})
    try:
        response = await tenant.http.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable" and body["clickhouse"] and body["postgres"]
        assert any("data dir" in r and "TRACEHOUSE_MIN_FREE_DISK_MB" in r for r in body["reasons"]), body
        assert any(r.startswith("clickhouse disk has") for r in body["reasons"]), body
    finally:
        state.settings = settings
    assert (await tenant.http.get("/readyz")).status_code == 200  # room again: ready again


async def test_a_read_only_postgres_is_not_ready(tenant: Tenant, state: AppState, database_url: str) -> None:
    # The same Postgres, through connections that refuse writes (as a standby's would).
    read_only = await asyncpg.create_pool(
        database_url, min_size=1, max_size=1, server_settings={"default_transaction_read_only": "on"}
    )
    pool = state.pg
    state.pg = read_only
    try:
        response = await tenant.http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["reasons"] == ["postgres is read-only (a standby, or default_transaction_read_only)"]
    finally:
        state.pg = pool
        await read_only.close()
    assert (await tenant.http.get("/readyz")).status_code == 200
