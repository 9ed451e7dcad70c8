"""A Postgres database of its own on the test server, for a test that must start from an empty (or old)
schema or may leave state behind that other tests' servers must not see (they all share one database)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg


@asynccontextmanager
async def own_database(database_url: str, prefix: str) -> AsyncIterator[str]:
    """Creates it, yields its DSN, drops it (with any connection left open) afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(database_url)  # a socket DSN keeps its host in the query string
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
