"""Per-tenant retention settings: how many days of data a tenant keeps (NULL: the configured default).

ClickHouse enforces them (storage/clickhouse/retention.py); this module only stores and reads them.
"""

from __future__ import annotations

from storage.postgres.connections import PgConnection, PgPool


async def set_retention(pg: PgPool | PgConnection, tenant_name: str, days: int | None) -> bool:
    """Set (or, with None, clear) a tenant's retention; False when there is no such tenant."""
    row = await pg.fetchrow("UPDATE tenants SET retention_days = $2 WHERE name = $1 RETURNING id", tenant_name, days)
    return row is not None


async def retention_days(pg: PgPool | PgConnection) -> dict[str, int]:
    """tenant id -> days, for every tenant that has its own retention."""
    rows = await pg.fetch("SELECT id, retention_days FROM tenants WHERE retention_days IS NOT NULL ORDER BY id")
    return {str(r["id"]): int(r["retention_days"]) for r in rows}


async def list_tenants(pg: PgPool | PgConnection) -> list[tuple[str, str, int | None]]:
    """(name, id, retention days or None) of every tenant, by name."""
    rows = await pg.fetch("SELECT name, id, retention_days FROM tenants ORDER BY name")
    return [(r["name"], str(r["id"]), r["retention_days"]) for r in rows]
