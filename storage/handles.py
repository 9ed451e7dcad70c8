"""The store handles the layers above hold and pass down: named here so that only storage/ imports the drivers."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from storage.clickhouse.client import ClickHouse

PgPool: TypeAlias = asyncpg.Pool
# A connection as `asyncpg.connect()` or a pool's `acquire()` gives it.
PgConnection: TypeAlias = asyncpg.Connection | PoolConnectionProxy

__all__ = ["ClickHouse", "PgConnection", "PgPool"]
