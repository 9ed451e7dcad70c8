"""The live bus: messages (opaque bytes per tenant) fanned out to subscribers in every server process.

Publishing appends the message to `live_messages` and NOTIFYs its id in the same transaction; this
process's own subscribers get it straight from memory, other processes fetch it by id when their one
listening connection hears the notification. The log's ids are the resume cursors, so a subscriber that
reconnects replays what it missed from the log. Each subscriber has a bounded queue: one that cannot keep
up is cut off (`overflowed`) instead of growing memory.

A message is only built and logged when it can have a reader: a tenant counts as watched while any process
has a subscriber for it and for the retention window after (a cursor handed out meanwhile can still be
resumed). Processes say so with watch markers in `live_watches`, one row per tenant and process holding when
it last marked (so the log holds messages only, and the markers stay a few rows): a subscriber's marker is
committed before it reads anything stored, and a publisher looks for one after its rows are stored, so one
of the two always sees the other's write. A publisher trusts "no marker" for NO_READER_SECONDS (one lookup
per tenant per that, not per commit), so a new marker's subscriber waits that long before it reads: a
commit that missed its marker is stored by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg

from storage.postgres.outage import unavailable_when_down

log = logging.getLogger(__name__)

CHANNEL = "tracehouse_live"
MARK_EVERY = 30.0  # seconds between a process's markers while it has subscribers for a tenant (at most)
NO_READER_SECONDS = 0.25  # how long a publisher trusts a lookup that found no marker


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    tenant_id: str
    body: bytes


@dataclass(eq=False)
class Subscriber:
    tenant_id: str
    queue: asyncio.Queue[Message] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    overflowed: bool = False

    def offer(self, message: Message) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True
            # wake the consumer so it sees the overflow now rather than after a drain
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(Message(-1, self.tenant_id, b""))


class LiveBus:
    def __init__(self, pg: asyncpg.Pool, dsn: str, queue_size: int = 1000, retention: timedelta = timedelta(hours=1)):
        self._pg = pg
        self._dsn = dsn
        self._queue_size = queue_size
        self._retention = retention
        # A marker older than the retention window counts for nothing and is pruned: re-mark well within it
        # (a third of it when that is shorter than MARK_EVERY; never more often than every 0.1 s).
        self._mark_every = max(min(MARK_EVERY, retention.total_seconds() / 3), 0.1)
        self.origin = uuid.uuid4().hex  # this process, so it can skip its own notifications
        self._subscribers: dict[str, set[Subscriber]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._pruner: asyncio.Task[None] | None = None
        self._fetches: set[asyncio.Task[None]] = set()
        self._marked: dict[str, float] = {}  # tenant -> when this process last committed its marker (monotonic)
        self._watched_until: dict[str, float] = {}  # tenant -> known watched until then (monotonic)
        self._unwatched_until: dict[str, float] = {}  # tenant -> known to have no marker until then (monotonic)
        self._marker: asyncio.Task[None] | None = None
        self._marks: set[asyncio.Task[None]] = set()
        self.skipped = 0  # commits' messages not built because no one could read them: tests and benchmarks

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="live-listen")
        self._pruner = asyncio.create_task(self._prune(), name="live-prune")
        self._marker = asyncio.create_task(self._keep_marking(), name="live-mark")

    async def stop(self) -> None:
        for task in (self._task, self._pruner, self._marker, *self._marks):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def subscribe(self, tenant_id: str) -> Subscriber:
        subscriber = Subscriber(tenant_id, asyncio.Queue(maxsize=self._queue_size))
        self._subscribers[tenant_id].add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        tenant_id = subscriber.tenant_id
        self._subscribers[tenant_id].discard(subscriber)
        # The last one out marks again: its cursors stay resumable for the retention window from now.
        if not self._subscribers[tenant_id] and time.monotonic() - self._marked.get(tenant_id, 0.0) > 1.0:
            task = asyncio.get_running_loop().create_task(self._mark_quietly(tenant_id))
            self._marks.add(task)
            task.add_done_callback(self._marks.discard)

    async def watch(self, tenant_id: str) -> None:
        """Make sure every process publishes this tenant's commits from now on. A subscriber awaits this
        after subscribe() and before it reads anything stored: a commit whose publisher missed the marker
        (looked before it, or trusted an older lookup for up to NO_READER_SECONDS) was stored before this
        returns, so that read finds it."""
        marked = self._marked.get(tenant_id)
        if marked is None or time.monotonic() - marked >= self._mark_every:
            with unavailable_when_down():
                await self._mark(tenant_id)
            marked = self._marked[tenant_id]
        wait = marked + NO_READER_SECONDS - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _mark(self, tenant_id: str) -> None:
        await self._pg.execute(
            "INSERT INTO live_watches (tenant_id, origin) VALUES ($1, $2) "
            "ON CONFLICT (tenant_id, origin) DO UPDATE SET marked_at = now()",
            tenant_id,
            self.origin,
        )
        marked = time.monotonic()  # after the commit: watch() waits from here
        self._marked[tenant_id] = marked
        self._watched_until[tenant_id] = marked + self._retention.total_seconds()

    async def _mark_quietly(self, tenant_id: str) -> None:
        try:
            await self._mark(tenant_id)
        except Exception as exc:
            log.warning("live bus could not mark tenant %s as watched: %s", tenant_id, exc)

    async def readers(self, tenant_ids: set[str]) -> set[str]:
        """The tenants among these whose messages can have a reader now or by resuming: a subscriber in this
        process, or a watch marker (any process's) younger than the retention window. Call it after the
        commit's rows are stored."""
        now = time.monotonic()  # before the lookup: what it finds holds from no earlier than this
        found = {t for t in tenant_ids if self._subscribers.get(t) or self._watched_until.get(t, 0.0) > now}
        unknown = {t for t in tenant_ids - found if self._unwatched_until.get(t, 0.0) <= now}
        if unknown:
            rows = await self._pg.fetch(
                "SELECT tenant_id, extract(epoch FROM now() - max(marked_at))::float8 AS age FROM live_watches "
                "WHERE tenant_id = ANY($1::text[]) GROUP BY tenant_id",
                list(unknown),
            )
            if len(self._unwatched_until) > 100_000:  # forget tenants' expired entries now and then
                self._unwatched_until = {t: u for t, u in self._unwatched_until.items() if u > now}
            for tenant_id in unknown:
                self._unwatched_until[tenant_id] = now + NO_READER_SECONDS
            for row in rows:
                left = self._retention.total_seconds() - row["age"]
                if left > 0:
                    tenant_id = row["tenant_id"]
                    self._watched_until[tenant_id] = now + left
                    self._unwatched_until.pop(tenant_id, None)
                    found.add(tenant_id)
        self.skipped += len(tenant_ids) - len(found)
        return found

    async def publish(self, tenant_id: str, body: bytes) -> int:
        async with self._pg.acquire() as conn, conn.transaction():
            message_id = await conn.fetchval(
                "INSERT INTO live_messages (tenant_id, origin, body) VALUES ($1, $2, $3) RETURNING id",
                tenant_id,
                self.origin,
                body,
            )
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{message_id}:{self.origin}")
        self._deliver(Message(message_id, tenant_id, body))
        return int(message_id)

    async def position(self, tenant_id: str | None = None) -> int:
        """The id of the latest message (of one tenant, when given): everything up to it is already in the
        stores. A position shown to a client is its own tenant's, which says nothing of other tenants' traffic."""
        with unavailable_when_down():
            if tenant_id is None:
                return int(await self._pg.fetchval("SELECT coalesce(max(id), 0) FROM live_messages"))
            sql = "SELECT coalesce(max(id), 0) FROM live_messages WHERE tenant_id = $1"
            return int(await self._pg.fetchval(sql, tenant_id))

    async def replay(self, tenant_id: str, after_id: int, limit: int = 10_000) -> list[Message]:
        with unavailable_when_down():
            rows = await self._pg.fetch(
                "SELECT id, tenant_id, body FROM live_messages WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                tenant_id,
                after_id,
                limit,
            )
        return [Message(int(r["id"]), r["tenant_id"], bytes(r["body"])) for r in rows]

    async def rewrite(self, bodies: dict[int, tuple[bytes, bytes]]) -> int:
        """Replace logged messages' bodies, id -> (old, new), each only if it still is the old one (two
        rewrites at once must not undo each other); returns how many were replaced. Ids stay, so cursors
        naming them stay valid."""
        if not bodies:
            return 0
        rows = await self._pg.fetch(
            "UPDATE live_messages SET body = u.new "
            "FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS u(id, old, new) "
            "WHERE live_messages.id = u.id AND live_messages.body = u.old RETURNING live_messages.id",
            list(bodies),
            [old for old, _ in bodies.values()],
            [new for _, new in bodies.values()],
        )
        return len(rows)

    def _deliver(self, message: Message) -> None:
        for subscriber in list(self._subscribers.get(message.tenant_id, ())):
            subscriber.offer(message)

    async def _fetch_and_deliver(self, message_id: int) -> None:
        row = await self._pg.fetchrow("SELECT id, tenant_id, body FROM live_messages WHERE id = $1", message_id)
        if row is not None:
            self._deliver(Message(int(row["id"]), row["tenant_id"], bytes(row["body"])))

    async def _listen(self) -> None:
        """One listening connection per process; reconnects by itself when Postgres goes away."""
        delay = 0.2
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())

                def on_notify(_conn: object, _pid: int, _channel: str, payload: object) -> None:
                    message_id, _, origin = str(payload).partition(":")  # a NOTIFY payload is text
                    if origin != self.origin and self.subscriber_count:
                        task = asyncio.get_running_loop().create_task(self._fetch_and_deliver(int(message_id)))
                        self._fetches.add(task)  # keep a reference until it is done
                        task.add_done_callback(self._fetches.discard)

                await conn.add_listener(CHANNEL, on_notify)
                delay = 0.2
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), 30)
                    except TimeoutError:  # a connection can die silently: probe it now and then
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), 5)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("live bus listener lost its connection (%s); reconnecting", exc)
            finally:
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _keep_marking(self) -> None:
        """While this process has subscribers for a tenant, its marker stays younger than `_mark_every`."""
        while True:
            await asyncio.sleep(self._mark_every / 3)
            for tenant_id, subscribers in list(self._subscribers.items()):
                if subscribers and time.monotonic() - self._marked.get(tenant_id, 0.0) >= self._mark_every / 2:
                    await self._mark_quietly(tenant_id)

    async def prune_once(self) -> None:
        """Messages and markers older than the retention window go (a marker past it counts for nothing:
        readers() checks its age). One statement for both tables: one round trip a minute."""
        await self._pg.execute(
            "WITH old_watches AS (DELETE FROM live_watches WHERE marked_at < now() - $1::interval) "
            "DELETE FROM live_messages WHERE created_at < now() - $1::interval",
            self._retention,
        )

    async def _prune(self) -> None:
        while True:
            await asyncio.sleep(60)
            try:
                await self.prune_once()
            except Exception as exc:
                log.warning("pruning live messages failed: %s", exc)
