"""The `delete…` mutations and the `deletions` record, for keys with the `admin` scope only.

A deletion answers once the rows are gone from every read (resolvers/deletes.py has the order of steps);
here in graph/ because it wires resolvers/ to ingest/'s live log scrub, which resolvers/ may not import.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError

from graph.context import Context, Info, StoreUnavailable
from graph.delete_inputs import DeleteEventsFilter, DeleteExecutionsFilter
from graph.deletion import Deletion
from ingest import live_scrub
from resolvers import deletes
from resolvers.deletes import DeletionRecord
from resolvers.errors import bad_input, unavailable
from resolvers.stores import ClickHouse, LiveBus, PgPool

NEEDED_SCOPE = "admin"
MAX_IDS = 10_000
_RUNNING: set[asyncio.Task[DeletionRecord]] = set()  # deletions under way, referenced until they finish


def _require_admin(ctx: Context) -> str:
    """The key's id; deleting is for `admin` keys, not the `ingest` keys SDKs carry."""
    principal = ctx.principal
    assert principal is not None  # graph/scopes.py lets nothing without a principal run
    if NEEDED_SCOPE not in principal.scopes:
        raise GraphQLError(
            f"deleting needs an API key with the `{NEEDED_SCOPE}` scope (this one has: {', '.join(principal.scopes)})",
            extensions={"code": "FORBIDDEN"},
        )
    return principal.key_id


def scrubber(bus: LiveBus, ch: ClickHouse) -> deletes.Scrub:
    return partial(live_scrub.scrub, bus, ch)


async def resume_pending(ch: ClickHouse, pg: PgPool, bus: LiveBus) -> int:
    """Finish the deletions a stopped server left pending (at start-up, before serving); returns how many."""
    return len(await deletes.resume_pending(ch, pg, scrubber(bus, ch)))


async def _delete(info: Info, target: str, f: dict[str, Any]) -> Deletion:
    ctx = info.context
    key_id = _require_admin(ctx)
    stores = ctx.stores
    running = asyncio.create_task(
        deletes.delete(stores.ch, stores.pg, scrubber(stores.live_bus, stores.ch), ctx.tenant_id, key_id, target, f)
    )
    _RUNNING.add(running)
    running.add_done_callback(_RUNNING.discard)
    try:
        # Shielded: a client that hangs up mid-delete does not leave it half done until the next start.
        record = await asyncio.shield(running)
    except StoreUnavailable as exc:
        raise unavailable(f"{exc.store} is unavailable; retry later (a deletion already recorded is finished "
                          "when the server next starts)") from None  # fmt: skip
    return Deletion(record=record)


@strawberry.type
class DeleteMutations:
    @strawberry.mutation(description="Delete executions by id, each whole: every event and span. Ids this tenant "
                         "does not have are ignored. Needs the `admin` scope.")  # fmt: skip
    async def delete_executions(self, info: Info, ids: list[strawberry.ID]) -> Deletion:
        wanted = sorted({str(i) for i in ids})
        if not wanted:
            raise bad_input("give at least one execution id", "ids")
        if any("\x00" in i for i in wanted):  # the record keeps the ids in Postgres, whose JSON has no NUL
            raise bad_input("an id may not contain the NUL character", "ids")
        if len(wanted) > MAX_IDS:
            raise bad_input(f"{len(wanted)} ids exceed the limit of {MAX_IDS}; delete by filter instead", "ids")
        return await _delete(info, "executions", {"ids": wanted})

    @strawberry.mutation(description="Delete every execution matching the filter, each whole. Needs the `admin` "
                         "scope.")  # fmt: skip
    async def delete_executions_by_filter(self, info: Info, filter: DeleteExecutionsFilter) -> Deletion:
        _require_admin(info.context)
        return await _delete(info, "executions", filter.to_json())

    @strawberry.mutation(description="Delete the events matching the filter, with the span pieces they carried. "
                         "Needs the `admin` scope.")  # fmt: skip
    async def delete_events(self, info: Info, filter: DeleteEventsFilter) -> Deletion:
        _require_admin(info.context)
        return await _delete(info, "events", filter.to_json())


@strawberry.type
class DeletionQueries:
    @strawberry.field(description="This tenant's deletions, newest first. Needs the `admin` scope (a filter may "
                      "name who was deleted).")  # fmt: skip
    async def deletions(self, info: Info, first: int | None = 50) -> list[Deletion]:
        _require_admin(info.context)
        first = 50 if first is None else first
        if not 1 <= first <= 1000:
            raise bad_input("`first` must be between 1 and 1000", "first")
        records = await deletes.list_deletions(info.context.stores.pg, info.context.tenant_id, first)
        return [Deletion(record=r) for r in records]
