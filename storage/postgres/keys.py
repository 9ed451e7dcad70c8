"""Tenants and API keys. Keys are random tokens; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from storage.errors import StoreUnavailable
from storage.postgres.connections import PgConnection, PgPool
from storage.postgres.outage import CONNECTION_ERRORS

DEFAULT_TENANT = "default"
ALL_SCOPES = ("admin",)
SCOPES = ("ingest", "read", "admin")


@dataclass(frozen=True)
class Principal:
    key_id: str
    tenant_id: str
    tenant_name: str
    scopes: tuple[str, ...]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return "th_" + secrets.token_urlsafe(32)


async def ensure_tenant(conn: PgConnection | PgPool, name: str) -> str:
    row = await conn.fetchrow(
        "INSERT INTO tenants (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        name,
    )
    assert row is not None  # INSERT … ON CONFLICT DO UPDATE … RETURNING always returns the row
    return str(row["id"])


async def add_key(
    conn: PgConnection | PgPool, tenant_id: str, key: str, scopes: tuple[str, ...] = ALL_SCOPES
) -> None:
    """Register a key for the tenant; registering the same key again is a no-op."""
    await conn.execute(
        "INSERT INTO api_keys (tenant_id, key_hash, prefix, scopes) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (key_hash) DO NOTHING",
        tenant_id,
        hash_key(key),
        key[:10],
        list(scopes),
    )


async def create_key(
    conn: PgConnection | PgPool, tenant_name: str, scopes: tuple[str, ...] = ALL_SCOPES
) -> str:
    tenant_id = await ensure_tenant(conn, tenant_name)
    key = new_key()
    await add_key(conn, tenant_id, key, scopes)
    return key


# Any error of the lookup means the key cannot be checked now, none that the key is bad.
_LOOKUP_FAILURES: tuple[type[Exception], ...] = (*CONNECTION_ERRORS, asyncpg.PostgresError)


async def find_principal(conn: PgConnection | PgPool, key: str) -> Principal | None:
    """The key's principal, None for an unknown or revoked key; StoreUnavailable when Postgres is down."""
    try:
        row = await conn.fetchrow(
            "SELECT k.id, k.tenant_id, t.name, k.scopes FROM api_keys k JOIN tenants t ON t.id = k.tenant_id "
            "WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
            hash_key(key),
        )
    except _LOOKUP_FAILURES as exc:
        raise StoreUnavailable("postgres", exc) from exc
    if row is None:
        return None
    return Principal(str(row["id"]), str(row["tenant_id"]), str(row["name"]), tuple(row["scopes"]))


@dataclass(frozen=True)
class KeyInfo:
    id: str
    tenant: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


async def list_keys(conn: PgConnection | PgPool, tenant_name: str | None = None) -> list[KeyInfo]:
    rows = await conn.fetch(
        "SELECT k.id, t.name, k.prefix, k.scopes, k.created_at, k.revoked_at FROM api_keys k "
        "JOIN tenants t ON t.id = k.tenant_id WHERE $1::text IS NULL OR t.name = $1 ORDER BY t.name, k.created_at",
        tenant_name,
    )
    return [KeyInfo(str(r[0]), r[1], r[2], tuple(r[3]), r[4], r[5]) for r in rows]


async def revoke_key(conn: PgConnection | PgPool, key_or_id: str) -> int:
    """Revoke by key id, by the full key, or by its printed prefix (when that names one key)."""
    rows = await conn.fetch(
        "UPDATE api_keys SET revoked_at = now() WHERE revoked_at IS NULL AND "
        "(id = $1 OR key_hash = $2 OR (prefix = $1 AND (SELECT count(*) FROM api_keys WHERE prefix = $1) = 1)) "
        "RETURNING id",
        key_or_id,
        hash_key(key_or_id),
    )
    return len(rows)
