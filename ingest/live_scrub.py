"""Removing deleted events from the live message log, so a subscription resumed from a cursor older than a
deletion does not replay what was deleted.

The log holds the events of the last TRACEHOUSE_LIVE_RETENTION_SECONDS as the group commit published them
(ingest/live_codec.py). Everything in it was stored before it was published, so an event the log holds and
ClickHouse no longer does was deleted (or expired): its row becomes null. Message ids and the other
events' places stay, so cursors stay valid. Idempotent: running it again finds nothing more to drop.
"""

from __future__ import annotations

import orjson

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.deletes import existing_event_ids
from storage.postgres.live_bus import LiveBus

PAGE = 500  # messages per round: one ClickHouse lookup of their event ids, one Postgres rewrite


def event_ids(body: bytes) -> list[str]:
    """The ids of a message's events still in it (the first field of each encoded row)."""
    return [row[0] for row in orjson.loads(body) if row is not None]


def without(body: bytes, dropped: set[str]) -> bytes:
    """The message with each dropped event replaced by null: the others keep their index, which cursors name."""
    return orjson.dumps([None if row is None or row[0] in dropped else row for row in orjson.loads(body)])


async def scrub(bus: LiveBus, ch: ClickHouse, tenant_id: str) -> int:
    """Drop every event of the tenant's logged messages that is no longer stored; returns how many."""
    dropped_total = 0
    after = 0
    while True:
        messages = await bus.replay(tenant_id, after, PAGE)
        if not messages:
            return dropped_total
        ids = {m.id: event_ids(m.body) for m in messages}
        wanted = sorted({i for message_ids in ids.values() for i in message_ids})
        stored = await existing_event_ids(ch, tenant_id, wanted) if wanted else set()
        gone = set(wanted) - stored
        edits = {m.id: (m.body, without(m.body, gone)) for m in messages if gone.intersection(ids[m.id])}
        if await bus.rewrite(edits) < len(edits):
            continue  # another scrub rewrote one of these meanwhile: read the page again
        dropped_total += sum(len(gone.intersection(ids[i])) for i in edits)
        after = messages[-1].id
