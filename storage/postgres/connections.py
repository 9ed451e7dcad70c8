"""The asyncpg types callers name (a pool, a connection), so that only storage/ imports the driver."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

PgPool: TypeAlias = asyncpg.Pool
# A connection as `asyncpg.connect()` or a pool's `acquire()` gives it.
PgConnection: TypeAlias = asyncpg.Connection | PoolConnectionProxy
