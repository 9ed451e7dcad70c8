"""The record of deletions: who deleted what (the filter), when, and how many rows.

A deletion is recorded before it touches ClickHouse (state 'pending') and marked 'done' once every store is
clean, so the record is also the intent a restarted server re-applies (resolvers/deletes.py): a crash
between the steps loses neither the delete nor the data it did not cover.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from storage.postgres.connections import PgConnection, PgPool

_COLUMNS = (
    "d.id, t.name AS tenant, d.tenant_id, d.key_id, d.target, d.filter::text AS filter, d.state, d.execution_ids, "
    "d.events, d.executions, d.requested_at, d.finished_at"
)


@dataclass(frozen=True, slots=True)
class DeletionRecord:
    id: int
    tenant: str  # the tenant's name
    tenant_id: str
    key_id: str  # the API key that asked
    target: str  # 'executions' or 'events'
    filter: dict[str, Any]
    state: str  # 'pending' or 'done'
    execution_ids: list[str]  # the batch of executions being deleted now (empty between batches)
    events: int
    executions: int
    requested_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> DeletionRecord:
        values = dict(row)
        values["id"] = int(values["id"])
        values["filter"] = orjson.loads(values["filter"])
        values["execution_ids"] = [orjson.loads(i) for i in values["execution_ids"]]
        return cls(**values)


async def record_pending(
    pg: PgPool | PgConnection,
    tenant_id: str,
    key_id: str,
    target: str,
    filter: dict[str, Any],
    events: int = 0,
    executions: int = 0,
) -> int:
    """Record the intent with the rows it matches now (counted before, so a re-run does not count again);
    returns the deletion's id."""
    return int(
        await pg.fetchval(
            "INSERT INTO deletions (tenant_id, key_id, target, filter, events, executions) "
            "VALUES ($1, $2, $3, $4::jsonb, $5, $6) RETURNING id",
            tenant_id,
            key_id,
            target,
            orjson.dumps(filter).decode(),
            events,
            executions,
        )
    )


async def start_batch(
    pg: PgPool | PgConnection, deletion_id: int, execution_ids: list[str], events: int, executions: int
) -> None:
    """Name the executions about to be deleted and add the rows they hold to the counts, in one write: a
    crash after it re-deletes exactly these and does not count them twice."""
    await pg.execute(
        "UPDATE deletions SET execution_ids = $2, events = events + $3, executions = executions + $4 WHERE id = $1",
        deletion_id,
        [orjson.dumps(i).decode() for i in execution_ids],  # JSON strings: an id may hold NUL, Postgres text not
        events,
        executions,
    )


async def end_batch(pg: PgPool | PgConnection, deletion_id: int) -> None:
    await pg.execute("UPDATE deletions SET execution_ids = '{}' WHERE id = $1", deletion_id)


async def mark_done(pg: PgPool | PgConnection, deletion_id: int) -> DeletionRecord:
    row = await pg.fetchrow(
        f"WITH d AS (UPDATE deletions SET state = 'done', execution_ids = '{{}}', "
        "finished_at = coalesce(finished_at, now()) WHERE id = $1 RETURNING *) "
        f"SELECT {_COLUMNS} FROM d JOIN tenants t ON t.id = d.tenant_id",
        deletion_id,
    )
    assert row is not None  # the row was inserted by record_pending and deletions are never removed
    return DeletionRecord.from_row(row)


async def pending(pg: PgPool | PgConnection) -> list[DeletionRecord]:
    """Every deletion not yet done, oldest first: what a starting server re-applies."""
    rows = await pg.fetch(
        f"SELECT {_COLUMNS} FROM deletions d JOIN tenants t ON t.id = d.tenant_id WHERE d.state = 'pending' "
        "ORDER BY d.id"
    )
    return [DeletionRecord.from_row(r) for r in rows]


async def list_deletions(
    pg: PgPool | PgConnection, tenant_id: str | None, limit: int, tenant_name: str | None = None
) -> list[DeletionRecord]:
    """Newest first, of one tenant (by id or by name) or of all when both are None."""
    rows = await pg.fetch(
        f"SELECT {_COLUMNS} FROM deletions d JOIN tenants t ON t.id = d.tenant_id "
        "WHERE ($1::text IS NULL OR d.tenant_id = $1) AND ($2::text IS NULL OR t.name = $2) "
        "ORDER BY d.id DESC LIMIT $3",
        tenant_id,
        tenant_name,
        limit,
    )
    return [DeletionRecord.from_row(r) for r in rows]
