"""The asyncpg pool, with a count of the queries it ran (the query-count tests read it)."""

from __future__ import annotations

from typing import Any

import asyncpg


class QueryCounter:
    def __init__(self) -> None:
        self.queries = 0

    def __call__(self, record: Any) -> None:
        # The pool's reset on release is housekeeping, not a query the application asked for.
        if not record.query.startswith("SELECT pg_advisory_unlock_all()"):
            self.queries += 1


async def create_pool(dsn: str, counter: QueryCounter, max_size: int = 10) -> asyncpg.Pool:
    async def init(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(counter)

    return await asyncpg.create_pool(dsn, min_size=1, max_size=max_size, init=init)
