"""Group commit: concurrent requests' batches are coalesced into one ClickHouse insert.

A request's future resolves only after the insert that holds its rows returned (acknowledged means
durable). While one insert runs, new batches queue up and go together in the next one, so no artificial
delay is needed to batch under load. One bounded wait: while several bulk clients write at once, a commit
smaller than HOLD_ROWS waits up to `hold_seconds` for their next requests (_hold), since chDB's CPU per row
falls steeply with the size of an insert; a lone client or single events are never held.

One request's bad rows must not fail the others it was coalesced with: when a commit fails and the store
is not down (a row the store refuses), the group is split in halves and each half committed again, down to
the single request that fails alone. A commit's rows are stored for all of its requests or none, so the
others' rows are stored exactly once and none of the failing one's (its registry sightings may stay when
it was ClickHouse that refused it: see _flush). A store that is down fails every request in
the commit with StoreUnavailable (503, retry later), without retrying here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable

import asyncpg

from ingest.prices import PriceTable, price_batch
from ingest.records import EVENT_COLUMNS, Batch, event_columns
from storage.clickhouse.client import ClickHouse
from storage.clickhouse.events import insert_events
from storage.postgres.outage import outage
from storage.postgres.registry import Sighting, upsert_sightings

log = logging.getLogger(__name__)

_Pending = tuple[str, Batch, asyncio.Future[None]]


class RowsRefused(Exception):
    """A store refused this request's rows, alone in its commit: nothing of it was stored (the other
    requests it was coalesced with were). Input validation should have caught it: a server-side error."""


_STOP = None
# Rows a commit needs to start beside others in flight (see _run); more than one bulk request's worth.
PARALLEL_MIN_ROWS = 2_000
# A small commit waits for an insert in flight only when one of them is at most this big (~0.1 s of chDB):
# beside only bigger ones (a 100k-span export), waiting would hold a single event's answer for seconds.
HOLD_BESIDE_MAX_ROWS = 10_000
# Under concurrent writers, a commit smaller than this waits up to `hold_seconds` for more requests before it starts
# (see _hold): chDB's CPU per row, merges included, measured ~40 µs at 1,000 rows an insert, ~25 at 2,000, ~17 at
# 4,000 (bench/ingest.py), so with four bulk clients the hold alone took REST bulk from ~37 to ~32 µs an event.
HOLD_ROWS = 4_000
# ... and only for bulk writers (the last commit's requests averaged this many rows): single events cannot make an
# insert that big (a commit already holds every client's one), and a hold only idled the server (measured: 620 ->
# 490 req/s at concurrency 32).
HOLD_MIN_REQUEST_ROWS = 100
Listener = Callable[[list[tuple[str, Batch]]], Awaitable[None]]


class GroupCommitWriter:
    def __init__(
        self, ch: ClickHouse, pg: asyncpg.Pool, max_rows: int = 100_000, parallel: int = 3,
        prices: PriceTable | None = None, parallel_min_rows: int = PARALLEL_MIN_ROWS, hold_seconds: float = 0.0,
    ) -> None:  # fmt: skip
        self._ch = ch
        self._prices = prices
        self._pg = pg
        self._max_rows = max_rows
        self._parallel = parallel
        self._parallel_min_rows = parallel_min_rows
        self._hold_seconds = hold_seconds
        self._last_requests = 0  # requests in the last commit started: more than one means concurrent writers
        self._last_rows = 0
        # Concurrent writers seen at the last commit's start: its requests and those of the commits in flight
        # then (their clients send again once acknowledged). A hold ends once that many requests are in hand.
        self._writers = 0
        self._held = 0  # requests taken from the queue for the next commit, waiting for it to start
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.inserts = 0  # how many ClickHouse inserts ran: tests, benchmarks and metrics read it
        self.rows = 0
        self.isolations = 0  # how many refused commits were split to isolate the failing request
        self.holds = 0  # how many commits waited for more requests (_hold)
        self.commit_seconds = 0.0  # time from a commit's start to its requests' acknowledgement, summed
        self.listener_seconds = 0.0  # the part of it spent in listeners (the live bus)
        self.listeners: list[Listener] = []
        self._inflight: set[asyncio.Task[None]] = set()
        self._inflight_rows: dict[asyncio.Task[None], int] = {}  # rows of each commit in flight
        self._inflight_requests: dict[asyncio.Task[None], int] = {}  # requests of each commit in flight

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-commit")

    async def stop(self) -> None:
        """Let queued batches finish (the sentinel queues behind them), then stop."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        await self._task
        self._task = None

    async def drain(self) -> None:
        """Wait until everything queued so far is committed and its listeners have run."""
        while not self._queue.empty() or self._inflight or self._held:
            if self._inflight:
                await asyncio.wait(set(self._inflight))
            else:
                await asyncio.sleep(0)

    async def write(self, tenant_id: str, batch: Batch) -> None:
        if not batch.events:
            return
        if self._prices is not None:  # every format: reported costs marked, missing ones priced
            price_batch(batch, self._prices)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((tenant_id, batch, future))
        await future

    async def _run(self) -> None:
        # Up to `parallel` inserts run at once (chDB releases the GIL while it writes parts); while all
        # slots are busy, new batches queue up and go together into the next insert. Three measured best
        # for REST bulk on two cores (~8% over two; bench/ingest.py), but a commit only starts beside
        # another once it has PARALLEL_MIN_ROWS rows (below).
        slots = asyncio.Semaphore(self._parallel)
        inflight = self._inflight
        stopping = False
        while not stopping:
            await slots.acquire()
            first = await self._queue.get()
            if first is _STOP:
                break
            pending = [first]
            rows = len(first[1].events)
            self._held = 1
            while True:
                while rows < self._max_rows and not self._queue.empty():
                    item = self._queue.get_nowait()
                    if item is _STOP:
                        stopping = True
                        break
                    pending.append(item)
                    rows += len(item[1].events)
                self._held = len(pending)
                # An insert costs chDB ~10 ms of CPU whatever its size (two parts, the view's plan) plus a few µs
                # a row: beside inserts in flight, a small commit waits until one of them ends (or more rows
                # arrive) and goes with what queued meanwhile, so a busy server writes fewer, bigger inserts.
                # It waits only for inserts that end soon (HOLD_BESIDE_MAX_ROWS), and only for those.
                if stopping or not inflight or rows >= self._parallel_min_rows or rows >= self._max_rows:
                    break
                short = {task for task in inflight if self._inflight_rows[task] <= HOLD_BESIDE_MAX_ROWS}
                if not short:
                    break
                queued, item = await self._next_or_done(short)
                if not queued:
                    break
                if item is _STOP:
                    stopping = True
                    break
                pending.append(item)  # the queue was empty: it is the next batch in order
                rows += len(item[1].events)
            if not stopping and rows < HOLD_ROWS and self._bulk_writers(pending, rows):
                stopping = await self._hold(pending, rows)
                rows = sum(len(batch.events) for _, batch, _ in pending)
            self._last_requests, self._last_rows = len(pending), rows
            self._writers = len(pending) + sum(self._inflight_requests.values())
            self._held = 0
            task = asyncio.create_task(self._commit(pending, rows, slots))
            inflight.add(task)
            self._inflight_rows[task] = rows
            self._inflight_requests[task] = len(pending)
            task.add_done_callback(self._done)
        await asyncio.gather(*inflight)

    def _bulk_writers(self, pending: list[_Pending], rows: int) -> bool:
        """The last commit held several bulk requests (concurrent writers whose next requests are on their way),
        the requests in hand are bulk ones too (a single event after a bulk wave is not held), and fewer of them
        than the writers seen (with every writer's request in hand, no more are coming)."""
        return (
            self._hold_seconds > 0 and self._last_requests > 1
            and self._last_rows >= HOLD_MIN_REQUEST_ROWS * self._last_requests
            and rows >= HOLD_MIN_REQUEST_ROWS * len(pending) and len(pending) < self._writers
        )  # fmt: skip

    async def _hold(self, pending: list[_Pending], rows: int) -> bool:
        """Add to `pending` what queues within `hold_seconds`, until it holds HOLD_ROWS rows or a request of each
        writer seen (two clients of 1,000 rows each never wait out the hold for rows that cannot come); True if the
        stop sentinel came. A lone client's request, a single event, or the first after a quiet spell, is never held
        (_bulk_writers)."""
        self.holds += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._hold_seconds
        while rows < HOLD_ROWS and rows < self._max_rows and len(pending) < self._writers:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                item = await asyncio.wait_for(self._queue.get(), remaining)
            except TimeoutError:
                return False
            if item is _STOP:
                return True
            pending.append(item)
            self._held = len(pending)
            rows += len(item[1].events)
        return False

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._inflight_rows.pop(task, None)
        self._inflight_requests.pop(task, None)

    async def _next_or_done(self, commits: set[asyncio.Task[None]]) -> tuple[bool, _Pending | None]:
        """Wait until a batch is queued or one of `commits` ends: (True, the batch or the stop sentinel), or
        (False, None) when a commit ended first."""
        getter = asyncio.ensure_future(self._queue.get())
        done, _ = await asyncio.wait({getter, *commits}, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            return True, getter.result()
        getter.cancel()
        return False, None

    async def _commit(self, pending: list[_Pending], rows: int, slots: asyncio.Semaphore) -> None:
        started = time.perf_counter()
        try:
            committed = await self._commit_isolating(pending)
        finally:
            slots.release()
        # Listeners (the live bus) hear of a commit before its requests are acknowledged: commits run in
        # parallel, and a client that sends B after A was acknowledged must see A's updates before B's.
        flushed = [(tenant, batch) for tenant, batch, _ in committed]
        heard = time.perf_counter()
        for listener in self.listeners:
            try:
                await listener(flushed)
            except Exception:
                log.exception("ingest listener failed")
        for _, _, future in committed:
            if not future.done():
                future.set_result(None)
        done = time.perf_counter()
        self.listener_seconds += done - heard
        self.commit_seconds += done - started
        log.debug(
            "group commit: %d rows from %d requests in %.1f ms",
            rows, len(pending), (time.perf_counter() - started) * 1000,
        )  # fmt: skip

    async def _commit_isolating(self, pending: list[_Pending]) -> list[_Pending]:
        """Commit `pending`; on a refusal that is not an outage, halve and retry so only the requests that
        fail alone fail. Returns the committed requests; the failed ones' futures are already set."""
        try:
            await self._flush(pending)
            return pending
        except Exception as exc:
            error: Exception | None = outage(exc)
            if error is None and len(pending) > 1:
                self.isolations += 1
                log.warning("group commit of %d requests refused (%s); retrying them in halves", len(pending), exc)
                half = len(pending) // 2
                return [*await self._commit_isolating(pending[:half]), *await self._commit_isolating(pending[half:])]
            if error is None:
                log.error("a request's rows were refused by the store", exc_info=exc)
                error = RowsRefused(f"the store refused this request's rows: {exc}")
                error.__cause__ = exc
            else:
                log.warning("group commit of %d requests failed: %s", len(pending), exc)
            for _, _, future in pending:
                if not future.done():
                    future.set_exception(error)
            return []

    async def _flush(self, pending: list[_Pending]) -> None:
        actors: list[Sighting] = []
        resources: list[Sighting] = []
        definitions: list[Sighting] = []
        for tenant, batch, _ in pending:
            for event in batch.events:
                if event.actor_type and event.actor_id:
                    actors.append(Sighting(tenant, event.actor_type, event.actor_id, event.timestamp))
                if event.resource_type and event.resource_id:
                    resources.append(Sighting(tenant, event.resource_type, event.resource_id, event.timestamp))
            definitions.extend(dataclasses.replace(d, tenant_id=tenant) for d in batch.definitions)
        events = [(tenant, batch.events) for tenant, batch, _ in pending]
        # The registry rows first, in one short transaction of their own: a refusal there leaves nothing.
        # Not held open across the insert: commits that share an actor or a definition (most do) would then
        # wait for each other's inserts (measured: REST bulk -17%, single events -31%). So a request whose
        # insert the store refuses may leave its actors' and resources' sightings behind, never its rows.
        # The insert's columns are built meanwhile, in a worker thread, while the loop drives Postgres's round
        # trips: ~1.4 ms of a REST bulk round's ~57 ms its clients no longer wait for.
        # Columns, not rows: the insert converts them to Arrow in C (storage/clickhouse/arrow_insert.py); a tuple
        # per event and rows serialized in Python held the GIL ~4 µs an event.
        if not (actors or resources or definitions):
            columns = event_columns(events)
        else:
            registered = asyncio.ensure_future(self._register(actors, resources, definitions))
            try:
                columns = await asyncio.to_thread(event_columns, events)
            except BaseException:  # a cancel too: raised as it is, once the registry's transaction is over
                await asyncio.gather(registered, return_exceptions=True)
                raise
            await registered  # its refusal is the commit's, raised before anything is inserted
        await insert_events(self._ch, columns, EVENT_COLUMNS)
        self.inserts += 1
        self.rows += len(columns[0])

    async def _register(self, actors: list[Sighting], resources: list[Sighting], definitions: list[Sighting]) -> None:
        async with self._pg.acquire() as conn, conn.transaction():
            await upsert_sightings(conn, actors, resources, definitions)
