from __future__ import annotations

from strawberry.dataloader import DataLoader

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.events import EventRecord, events_by_ids

# (source, id): an event id is unique within its format (source), not across formats. An empty source
# asks for any format's: the newest event with that id.
EventKey = tuple[str, str]


class EventByIdLoader(DataLoader[EventKey, EventRecord | None]):
    """Events of one tenant by (source, id): one ClickHouse query per batch."""

    def __init__(self, ch: ClickHouse, tenant_id: str) -> None:
        async def load(keys: list[EventKey]) -> list[EventRecord | None]:
            found = await events_by_ids(ch, tenant_id, list({i for _, i in keys}))
            return [pick(found.get(i, []), source) for source, i in keys]

        super().__init__(load_fn=load)


def pick(records: list[EventRecord], source: str) -> EventRecord | None:
    """The record of that source (any source when empty: the first, i.e. the newest)."""
    return next((r for r in records if not source or r.source == source), None)
