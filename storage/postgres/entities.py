"""Reading the actor and resource registries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True, slots=True)
class EntityRecord:
    type: str
    id: str
    name: str | None
    first_seen: datetime
    last_seen: datetime


async def entities_by_keys(
    pg: asyncpg.Pool, table: str, tenant_id: str, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], EntityRecord]:
    """`table` is "actors" or "resources" (a fixed identifier, never user input)."""
    assert table in ("actors", "resources")
    name_col = "display_name" if table == "actors" else "name"
    rows = await pg.fetch(
        f"SELECT type, id, {name_col} AS name, first_seen, last_seen FROM {table} "
        "WHERE tenant_id = $1 AND (type, id) IN (SELECT * FROM unnest($2::text[], $3::text[]))",
        tenant_id,
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return {(r["type"], r["id"]): EntityRecord(**dict(r)) for r in rows}
