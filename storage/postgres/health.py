"""What /readyz asks Postgres: does it answer, and will it take writes (not a standby, not read-only)."""

from __future__ import annotations

import asyncio

import asyncpg


async def postgres_state(pg: asyncpg.Pool, timeout: float = 2.0) -> bool | None:  # noqa: ASYNC109
    """None when it does not answer in time; else whether it accepts writes."""
    try:
        async with asyncio.timeout(timeout):
            return bool(
                await pg.fetchval(
                    "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'"
                )
            )
    except Exception:
        return None
