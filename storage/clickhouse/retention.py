"""Retention as ClickHouse TTL: rows older than their tenant's retention are deleted by ClickHouse itself.

One TTL expression per table maps tenant ids to days with `transform` (tenants without their own setting
get the default; 0 means keep forever and the `WHERE` leaves those rows alone). DDL takes no query
parameters, so the ids and days enter the statement as literals: ids through clickhouse-connect's own
quoting (`format_query_value`), days as validated integers; never raw interpolation of text.

Changing the expression rewrites nothing by itself (`materialize_ttl_after_modify = 0`); `MATERIALIZE TTL`
then applies it to the data already stored, as a background mutation (or waiting for it, when asked).
The expression applied last is kept in `retention_applied`, so an unchanged setting costs no rewrite.
"""

from __future__ import annotations

from clickhouse_connect.driver.binding import format_query_value

from storage.clickhouse.client import ClickHouse

# table -> its time column: retention counts from when the event happened
TABLES = {"events": "timestamp", "spans": "ts", "annotations": "created_at"}


def ttl_expression(time_column: str, days_by_tenant: dict[str, int], default_days: int) -> str | None:
    """The TTL clause for a table, or None when every tenant keeps its data forever."""
    if default_days == 0 and not any(days_by_tenant.values()):
        return None
    for days in (*days_by_tenant.values(), default_days):
        if type(days) is not int or days < 0:  # bool is an int too, and is not a number of days
            raise ValueError(f"retention days must be a non-negative integer, got {days!r}")
    tenants = sorted(days_by_tenant)
    ids = format_query_value([str(t) for t in tenants])
    values = "[" + ", ".join(str(days_by_tenant[t]) for t in tenants) + "]"
    days_sql = f"transform(tenant_id, {ids}, {values}, {default_days})" if tenants else str(default_days)
    return f"toDateTime({time_column}) + toIntervalDay({days_sql}) WHERE {days_sql} > 0"


async def applied(ch: ClickHouse) -> dict[str, str]:
    rows = await ch.query("SELECT table_name, expression FROM retention_applied FINAL")
    return {r[0]: r[1] for r in rows.rows}


async def apply_retention(
    ch: ClickHouse, days_by_tenant: dict[str, int], default_days: int, wait: bool = False
) -> list[str]:
    """Bring each table's TTL to these settings and apply it to stored data; returns the tables changed.
    `wait`: return only once the stored data is rewritten (else ClickHouse does it in the background)."""
    done = await applied(ch)
    changed: list[str] = []
    for table, column in TABLES.items():
        expression = ttl_expression(column, days_by_tenant, default_days)
        if done.get(table, "") == (expression or ""):
            continue
        if expression is None:
            await ch.command(f"ALTER TABLE {table} REMOVE TTL")
        else:
            await ch.command(f"ALTER TABLE {table} MODIFY TTL {expression} SETTINGS materialize_ttl_after_modify = 0")
            await ch.command(f"ALTER TABLE {table} MATERIALIZE TTL SETTINGS mutations_sync = {2 if wait else 0}")
        await ch.insert("retention_applied", [(table, expression or "")], ["table_name", "expression"])
        changed.append(table)
    return changed


async def materialize(ch: ClickHouse) -> None:
    """Apply the current TTL to every stored row now, waiting for it (rows past it are gone after)."""
    for table in TABLES:
        await ch.command(f"ALTER TABLE {table} MATERIALIZE TTL SETTINGS mutations_sync = 2")
