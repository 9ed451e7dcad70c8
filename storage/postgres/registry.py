"""The actor, resource and definition registries: upserted from ingested events, read by dataloaders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson

from storage.postgres.connections import PgConnection, PgPool


@dataclass(frozen=True)
class Sighting:
    """One (tenant, type, id) seen at a time, with an optional display name."""

    tenant_id: str
    type: str
    id: str
    seen_at: datetime
    name: str | None = None
    module: list[str] | None = None


Row = tuple[str, str, str, str | None, datetime, datetime, str]


def _fold(sightings: Iterable[Sighting]) -> list[Row]:
    """One row per key (ON CONFLICT cannot touch a row twice in a statement): first/last seen, last name."""
    folded: dict[tuple[str, str, str], Row] = {}
    for s in sightings:
        key = (s.tenant_id, s.type, s.id)
        module = orjson.dumps(s.module).decode() if s.module is not None else "null"
        row = folded.get(key)
        if row is None:
            folded[key] = (*key, s.name, s.seen_at, s.seen_at, module)
        else:
            name, first, last, kept = row[3:]
            folded[key] = (*key, s.name or name, min(first, s.seen_at), max(last, s.seen_at),
                           module if s.module is not None else kept)  # fmt: skip
    return list(folded.values())


_UPSERT = """
INSERT INTO {table} (tenant_id, type, id, {name_col}, first_seen, last_seen)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
ON CONFLICT (tenant_id, type, id) DO UPDATE SET
    {name_col} = COALESCE(EXCLUDED.{name_col}, {table}.{name_col}),
    first_seen = LEAST({table}.first_seen, EXCLUDED.first_seen),
    last_seen = GREATEST({table}.last_seen, EXCLUDED.last_seen)
"""

_UPSERT_DEFINITIONS = """
INSERT INTO definitions (tenant_id, kind, id, name, first_seen, last_seen, module)
SELECT t, k, i, n, f, l, m::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[])
    AS u(t, k, i, n, f, l, m)
ON CONFLICT (tenant_id, kind, id) DO UPDATE SET
    name = EXCLUDED.name,
    module = COALESCE(EXCLUDED.module, definitions.module),
    first_seen = LEAST(definitions.first_seen, EXCLUDED.first_seen),
    last_seen = GREATEST(definitions.last_seen, EXCLUDED.last_seen)
"""


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    return [[row[i] for row in rows] for i in range(width)]


async def upsert_sightings(
    conn: PgConnection | PgPool,
    actors: Iterable[Sighting],
    resources: Iterable[Sighting],
    definitions: Iterable[Sighting],
) -> None:
    """Upsert all three registries; rows are sorted so concurrent writers lock in the same order."""
    for table, name_col, sightings in (
        ("actors", "display_name", actors),
        ("resources", "name", resources),
    ):
        rows = sorted(_fold(sightings))
        if rows:
            await conn.execute(_UPSERT.format(table=table, name_col=name_col), *_columns(rows, 6))
    rows = sorted(r for r in _fold(definitions) if r[3])
    if rows:
        await conn.execute(_UPSERT_DEFINITIONS, *_columns(rows, 7))


# registry table -> its key columns; fixed identifiers, never user input
_REGISTRIES = ("actors", "resources")


async def registry_keys(conn: PgConnection | PgPool, registry: str, tenant_id: str) -> list[tuple[str, str]]:
    """Every (type, id) a tenant's actor or resource registry holds."""
    assert registry in _REGISTRIES
    rows = await conn.fetch(f"SELECT type, id FROM {registry} WHERE tenant_id = $1 ORDER BY type, id", tenant_id)
    return [(r["type"], r["id"]) for r in rows]


async def forget(conn: PgConnection | PgPool, registry: str, tenant_id: str, keys: list[tuple[str, str]]) -> int:
    """Remove these (type, id) from a tenant's actor or resource registry (their events were deleted)."""
    assert registry in _REGISTRIES
    if not keys:
        return 0
    rows = await conn.fetch(
        f"DELETE FROM {registry} WHERE tenant_id = $1 AND (type, id) IN "
        "(SELECT * FROM unnest($2::text[], $3::text[])) RETURNING id",
        tenant_id,
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return len(rows)
