"""The live bus: messages (opaque bytes per tenant) fanned out to subscribers in every server process.

Publishing appends the message to `live_messages` and NOTIFYs its id in the same transaction; this
process's own subscribers get it straight from memory, other processes fetch it by id when their one
listening connection hears the notification. The log's ids are the resume cursors, so a subscriber that
reconnects replays what it missed from the log. Each subscriber has a bounded queue: one that cannot keep
up is cut off (`overflowed`) instead of growing memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg

log = logging.getLogger(__name__)

CHANNEL = "tracehouse_live"


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
        self.origin = uuid.uuid4().hex  # this process, so it can skip its own notifications
        self._subscribers: dict[str, set[Subscriber]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._pruner: asyncio.Task[None] | None = None
        self._fetches: set[asyncio.Task[None]] = set()

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="live-listen")
        self._pruner = asyncio.create_task(self._prune(), name="live-prune")

    async def stop(self) -> None:
        for task in (self._task, self._pruner):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def subscribe(self, tenant_id: str) -> Subscriber:
        subscriber = Subscriber(tenant_id, asyncio.Queue(maxsize=self._queue_size))
        self._subscribers[tenant_id].add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers[subscriber.tenant_id].discard(subscriber)

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
        if tenant_id is None:
            return int(await self._pg.fetchval("SELECT coalesce(max(id), 0) FROM live_messages"))
        sql = "SELECT coalesce(max(id), 0) FROM live_messages WHERE tenant_id = $1"
        return int(await self._pg.fetchval(sql, tenant_id))

    async def replay(self, tenant_id: str, after_id: int, limit: int = 10_000) -> list[Message]:
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

    async def _prune(self) -> None:
        while True:
            await asyncio.sleep(60)
            try:
                await self._pg.execute(
                    "DELETE FROM live_messages WHERE created_at < now() - $1::interval", self._retention
                )
            except Exception as exc:
                log.warning("pruning live messages failed: %s", exc)
