"""Tenants and API keys. Keys are random tokens; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import asyncpg

DEFAULT_TENANT = "default"
ALL_SCOPES = ("admin",)


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


async def ensure_tenant(conn: asyncpg.Connection | asyncpg.Pool, name: str) -> str:
    row = await conn.fetchrow(
        "INSERT INTO tenants (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        name,
    )
    return str(row["id"])


async def add_key(
    conn: asyncpg.Connection | asyncpg.Pool, tenant_id: str, key: str, scopes: tuple[str, ...] = ALL_SCOPES
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
    conn: asyncpg.Connection | asyncpg.Pool, tenant_name: str, scopes: tuple[str, ...] = ALL_SCOPES
) -> str:
    tenant_id = await ensure_tenant(conn, tenant_name)
    key = new_key()
    await add_key(conn, tenant_id, key, scopes)
    return key


async def find_principal(conn: asyncpg.Connection | asyncpg.Pool, key: str) -> Principal | None:
    row = await conn.fetchrow(
        "SELECT k.id, k.tenant_id, t.name, k.scopes FROM api_keys k JOIN tenants t ON t.id = k.tenant_id "
        "WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
        hash_key(key),
    )
    if row is None:
        return None
    return Principal(str(row["id"]), str(row["tenant_id"]), str(row["name"]), tuple(row["scopes"]))
