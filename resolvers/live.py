"""Live streams for the subscriptions: span updates of one execution, matching events (executions: live_executions.py).

Each stream subscribes to the live bus before it reads anything stored, so nothing falls in the gap;
events already reflected in what it read are skipped, so nothing arrives twice. Cursors name a position
in the live message log (message id and index); a stream resumed after a cursor replays the log from
there, then goes live.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache

from graphql import GraphQLError

from ingest.live_codec import LiveEvent as LiveEvent  # what a stream reads (live_executions.py too)
from ingest.live_codec import decode
from resolvers import cursors
from resolvers.errors import bad_input
from resolvers.live_merge import FINISHED, STARTED, SpanState, change_of_piece
from resolvers.live_trace import LiveTrace
from resolvers.trace import Trace
from storage.clickhouse.client import ClickHouse
from storage.clickhouse.events import EventQuery, EventRecord
from storage.clickhouse.spans import SpanRecord, trace_with_event_ids
from storage.postgres.live_bus import LiveBus, Message, Subscriber

SEEN_LIMIT = 50_000
GUARD_SECONDS = 2.0
WHOLE_MESSAGE = 1 << 30  # a cursor index meaning "all of that message was delivered"


class SlowConsumer(GraphQLError):
    def __init__(self) -> None:
        super().__init__(
            "subscription closed: the client did not keep up with the stream and its buffer filled; "
            "resubscribe with the cursor of the last item received",
            extensions={"code": "SLOW_CONSUMER"},
        )


def encode_cursor(message_id: int, index: int) -> str:
    return cursors.encode("live", message_id, index)


async def live_cursor(bus: LiveBus, tenant_id: str) -> str:
    """The streams' position now. Everything up to it is already in the stores, so a reader that takes it
    before a snapshot and passes it as `after` misses nothing between the two (a replayed update that the
    snapshot already shows carries the same merged state)."""
    return encode_cursor(await bus.position(tenant_id), WHOLE_MESSAGE)


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        _, message_id, index = cursors.decode(cursor, (str, int, int))
    except cursors.InvalidCursor as exc:
        raise bad_input(str(exc), "after") from None
    return message_id, index


def event_key(event: EventRecord) -> str:
    """What tells one event from another: its id within its format (two formats may send the same id), as
    storage/clickhouse/spans.trace_with_event_ids gives the events a stored trace reflects."""
    return f"{event.source}\x00{event.id}"


class Seen:
    """A bounded set of what a stream already delivered (event ids, message ids)."""

    def __init__(self) -> None:
        self._items: OrderedDict[object, None] = OrderedDict()

    def add(self, item: object) -> bool:
        """True if the item is new."""
        if item in self._items:
            return False
        self._items[item] = None
        if len(self._items) > SEEN_LIMIT:
            self._items.popitem(last=False)
        return True

    def __contains__(self, item: object) -> bool:
        return item in self._items


@lru_cache(maxsize=32)
def _decoded(message: Message) -> list[LiveEvent | None]:
    """Every subscriber of a tenant gets the same message: decode it once, not once per subscriber. Streams
    read a message within moments of each other, so a few suffice; a message can be megabytes decoded."""
    return decode(message.body)


Guard = Callable[[], Awaitable[None]]


async def stream_messages(
    bus: LiveBus, subscriber: Subscriber, tenant_id: str, after: tuple[int, int] | None, guard: Guard
) -> AsyncIterator[tuple[Message, list[LiveEvent | None], int]]:
    """Replayed then live messages, each once, with the index of the first event not yet delivered.

    `guard` runs every few seconds even when nothing arrives, so a revoked key ends the stream."""
    seen = Seen()
    if after is not None:
        for message in await bus.replay(tenant_id, after[0] - 1):
            seen.add(message.id)
            yield message, _decoded(message), after[1] + 1 if message.id == after[0] else 0
    checked = time.monotonic()
    while True:
        try:
            arrived: Message | None = await asyncio.wait_for(subscriber.queue.get(), GUARD_SECONDS)
        except TimeoutError:
            arrived = None
        if time.monotonic() - checked >= GUARD_SECONDS:
            await guard()
            checked = time.monotonic()
        if arrived is None:
            continue
        if subscriber.overflowed:
            raise SlowConsumer()
        if seen.add(arrived.id):
            yield arrived, _decoded(arrived), 0


@dataclass(eq=False)
class StreamTap:
    """What a stream tells whoever shares it, and how a late joiner runs its own part.

    A subscriber that joins a running stream reads its own history (`history_only`: the stored spans if
    asked, then stop) once the running stream is `ready` (on the bus and past its own read of the store),
    then takes the running stream's items, skipping its history items and the events its own history
    already `reflected`: nothing is missed, because the store only grows, and nothing arrives twice."""

    history_only: bool = False
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    reflected: set[str] = field(default_factory=set)
    event_id: str | None = None  # the event behind the item just yielded (its event_key)
    history: bool = False  # whether the item just yielded came from the store rather than the bus

    def at(self, event_id: str | None, history: bool = False) -> None:
        self.event_id, self.history = event_id, history


@contextlib.asynccontextmanager
async def subscribed(bus: LiveBus, tenant_id: str) -> AsyncIterator[Subscriber]:
    subscriber = bus.subscribe(tenant_id)
    try:
        await bus.watch(tenant_id)  # before anything stored is read: from now on every commit is published
        yield subscriber
    finally:
        bus.unsubscribe(subscriber)


@dataclass
class SpanUpdateItem:
    span: SpanRecord
    trace: Trace
    change: str
    event: EventRecord | None
    cursor: str


async def execution_updates(
    bus: LiveBus,
    ch: ClickHouse,
    tenant_id: str,
    execution_id: str,
    include_existing: bool,
    after: str | None,
    guard: Guard,
    tap: StreamTap | None = None,
) -> AsyncIterator[SpanUpdateItem]:
    position = decode_cursor(after) if after else None
    tap = tap or StreamTap()
    async with subscribed(bus, tenant_id) as subscriber:
        start = await bus.position()
        if tap.history_only and not include_existing:
            return
        records, reflected = await trace_with_event_ids(ch, tenant_id, execution_id)
        tap.reflected = reflected
        tap.ready.set()
        states = {r.id: SpanState(r) for r in records}
        trace = LiveTrace(states)
        if include_existing and position is None:
            for record in records:
                change = FINISHED if record.end_time is not None else STARTED
                tap.at(None, history=True)
                yield SpanUpdateItem(record, trace, change, None, encode_cursor(start, WHOLE_MESSAGE))
        if tap.history_only:
            return
        # A resumed stream re-delivers what it missed, even if it is stored by now; one without the existing
        # spans sent none of the snapshot, so what reached its queue since it subscribed goes out too (the
        # snapshot is read up to NO_READER_SECONDS after subscribing, and a write in between is no less new).
        # Only a stream that sent the snapshot skips what the snapshot holds.
        skip = reflected if include_existing and position is None else set()
        delivered = Seen()
        since = position or (start + 1, -1)
        async for message, events, first in stream_messages(bus, subscriber, tenant_id, since, guard):
            for index, live in enumerate(events):
                if live is None:  # deleted since it was published
                    continue
                e, piece = live.event, live.piece
                if index < first or piece is None or e.execution_id != execution_id:
                    continue
                if event_key(e) in skip or not delivered.add(event_key(e)):
                    continue
                state = states.get(e.span_id)
                if state is None:
                    state = states[e.span_id] = SpanState.new(execution_id, e.span_id, e.timestamp)
                old_parent = state.record.parent_id
                change = state.apply(piece, e.timestamp)
                trace.moved(e.span_id, old_parent)
                if (position is not None and message.id <= start) or event_key(e) in reflected:
                    change = change_of_piece(piece)  # the stored base state already holds it: say what it did
                tap.at(event_key(e))
                yield SpanUpdateItem(state.record, trace, change, e, encode_cursor(message.id, index))


def event_matches(q: EventQuery, e: EventRecord) -> bool:
    checks = (
        (q.actor_type, e.actor_type), (q.actor_id, e.actor_id), (q.resource_type, e.resource_type),
        (q.resource_id, e.resource_id), (q.correlation_id, e.correlation_id), (q.causation_id, e.causation_id),
        (q.execution_id, e.execution_id), (q.span_id, e.span_id),
    )  # fmt: skip
    if any(want is not None and want != have for want, have in checks):
        return False
    if (q.names and e.name not in q.names) or (q.sources and e.source not in q.sources):
        return False
    return not ((q.since and e.timestamp < q.since) or (q.until and e.timestamp >= q.until))


@dataclass
class EventItem:
    event: EventRecord
    cursor: str


async def events(
    bus: LiveBus, tenant_id: str, query: EventQuery, after: str | None, guard: Guard, tap: StreamTap | None = None
) -> AsyncIterator[EventItem]:
    position = decode_cursor(after) if after else None
    tap = tap or StreamTap()
    async with subscribed(bus, tenant_id) as subscriber:
        start = position or (await bus.position() + 1, -1)
        tap.ready.set()
        if tap.history_only:
            return
        delivered = Seen()
        async for message, live_events, first in stream_messages(bus, subscriber, tenant_id, start, guard):
            for index, live in enumerate(live_events):
                if live is None:  # deleted since it was published
                    continue
                if index >= first and event_matches(query, live.event) and delivered.add(event_key(live.event)):
                    tap.at(event_key(live.event))
                    yield EventItem(live.event, encode_cursor(message.id, index))
