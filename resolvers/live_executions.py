"""The `executions` subscription's stream: executions as their root span starts and as it finishes, and as a
write makes them match a filter only the store can answer.

Whether an execution belongs to a session, holds a text in some span or has an actor is decided by the SQL
of the `executions` query (storage/clickhouse/executions.py), never by a second definition here: for each
delivered message the stream asks the store once, with that filter, about every execution the message
touched, so it sends an execution exactly when the query would list it after that write. A span naming the
session may arrive after the root started (or in another execution kind than the root's), and the session
filter then sends the execution as that span lands. The root-span filters (status, kind, name, start,
failed) are checked here, against the record the update shows: a STARTED update shows the running root even
when the store has since seen it finish. `failed` also looks below the root, as the query's does (the root or
any span failed): a record built from the root alone counts the store's failures below it, and with
`failed: true` a span failing below the root asks the store too, so the execution is sent then (while its
root runs, or after it finished). Only a failing piece can make `failed: true` match: other writes below the
root ask nothing, as each question is a summary over every span of the executions asked about.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from resolvers.live import Guard, LiveEvent, Seen, StreamTap, event_key, stream_messages, subscribed
from resolvers.live_merge import FINISHED, STARTED, SpanState
from storage.clickhouse.client import ClickHouse
from storage.clickhouse.executions import ExecutionQuery, ExecutionRecord, executions_by_ids, session_attribute
from storage.clickhouse.spans import SpanRecord
from storage.postgres.live_bus import LiveBus

_NO_FILTER = ExecutionQuery()


def store_filters(q: ExecutionQuery) -> ExecutionQuery | None:
    """The part of `q` only the store can answer (any span's session or text, the events' actor); None if none."""
    part = ExecutionQuery(session_id=q.session_id, search=q.search, actor_type=q.actor_type, actor_id=q.actor_id)
    return None if part == _NO_FILTER else part


def root_filters(q: ExecutionQuery) -> ExecutionQuery:
    """The rest of `q`: what the execution's summary record answers."""
    return dataclasses.replace(q, session_id=None, search=None, actor_type=None, actor_id=None)


def execution_matches(q: ExecutionQuery, r: ExecutionRecord) -> bool:
    """Whether the record passes the root filters of `q` (those of root_filters: the store answers the rest)."""
    failed = r.status == "FAILED" or r.failed_spans > 0
    return not (
        (q.statuses and r.status not in q.statuses)
        or (q.kinds and r.kind not in q.kinds)
        or (q.name is not None and r.name != q.name)
        or (q.name_contains is not None and q.name_contains.lower() not in r.name.lower())
        or (q.since is not None and r.start_time < q.since)
        or (q.until is not None and r.start_time >= q.until)
        or (q.failed is not None and failed != q.failed)
    )


@dataclass(slots=True)
class _Touch:
    """One event of a message that concerns an execution: a start or finish of its root span (`root`, the
    root's state right after it), or another write to it that can make it match the filter (`_below_counts`)."""

    execution_id: str
    key: str  # the event's event_key
    root: SpanRecord | None


BelowCounts = Callable[[LiveEvent], bool]  # whether a write that is not a root's start or finish can match


def _every_write(_: LiveEvent) -> bool:
    return True


def _a_failure(live: LiveEvent) -> bool:
    return live.piece is not None and live.piece.status == "FAILED"


def _no_write(_: LiveEvent) -> bool:
    return False


def _below_counts(query: ExecutionQuery) -> BelowCounts:
    """Which writes besides a root's start or finish can make an execution match `query`: any, for a store
    filter (a span naming the session, holding the text, an event of the actor); for `failed: true`, only a
    piece saying FAILED, the one way a span comes to count as failed; else none."""
    if store_filters(query) is not None:
        return _every_write
    return _a_failure if query.failed is True else _no_write


def _touches(
    events: list[LiveEvent | None], roots: dict[tuple[str, str], SpanState], delivered: Seen, counts: BelowCounts
) -> list[_Touch]:
    out: list[_Touch] = []
    for live in events:
        if live is None:  # deleted since it was published
            continue
        e, piece = live.event, live.piece
        if not e.execution_id or not delivered.add(event_key(e)):
            continue
        if piece is not None and not piece.parent_span_id:
            key = (e.execution_id, e.span_id)
            state = roots.get(key) or roots.setdefault(key, SpanState.new(e.execution_id, e.span_id, e.timestamp))
            if state.apply(piece, e.timestamp) in (STARTED, FINISHED):
                out.append(_Touch(e.execution_id, event_key(e), state.record))
                continue
        if counts(live):
            out.append(_Touch(e.execution_id, event_key(e), None))
    return out


def _from_root(r: SpanRecord, stored: ExecutionRecord | None) -> ExecutionRecord:
    """The execution as its root span shows it; what lies below the root (span count, failed spans, the session
    any span names) is the store's, when it has the execution, as the `executions` query would count it."""
    if stored is None:
        return ExecutionRecord(r.execution_id, r.id, r.name, r.kind, r.status, r.start_time, r.end_time, r.inputs,
                               r.outputs, r.error, r.attributes, 1, int(r.status == "FAILED"),
                               session_attribute=session_attribute(r.attributes))  # fmt: skip
    failed_below = stored.failed_spans - int(stored.status == "FAILED")  # the store's count holds its root too
    return ExecutionRecord(r.execution_id, r.id, r.name, r.kind, r.status, r.start_time, r.end_time, r.inputs,
                           r.outputs, r.error, r.attributes, stored.span_count,
                           failed_below + int(r.status == "FAILED"), stored.total_tokens,
                           stored.session_attribute)  # fmt: skip


async def executions(
    bus: LiveBus,
    ch: ClickHouse,
    tenant_id: str,
    query: ExecutionQuery,
    fresh: Callable[[], None],
    guard: Guard,
    tap: StreamTap | None = None,
) -> AsyncIterator[ExecutionRecord]:
    """Executions as their root span starts and as it finishes, read from the store (span counts, failures
    below the root) or, when the store has already seen the root move on, from the root span itself; with a
    store filter, also the first time a write makes one match it."""
    tap = tap or StreamTap()
    in_store, on_root = store_filters(query), root_filters(query)
    # Writes that are not a root's start or finish matter when they can make the execution match: a store
    # filter's span landing, or, for `failed: true`, a span below the root failing.
    counts = _below_counts(query)
    below = counts is not _no_write
    async with subscribed(bus, tenant_id) as subscriber:
        roots: dict[tuple[str, str], SpanState] = {}
        delivered = Seen()
        sent = Seen()  # executions sent while writes below the root count: a later one cannot match anew
        start = (await bus.position() + 1, -1)
        tap.ready.set()
        if tap.history_only:
            return
        async for _message, live_events, _first in stream_messages(bus, subscriber, tenant_id, start, guard):
            touches = _touches(live_events, roots, delivered, counts)
            rooted = {t.execution_id for t in touches if t.root is not None}
            asked = (t.execution_id for t in touches if t.root is not None or t.execution_id not in sent)
            ids = list(dict.fromkeys(asked))
            if not ids:
                continue
            stored = await executions_by_ids(ch, tenant_id, ids, in_store)  # one query per message
            for t in touches:
                found = stored.get(t.execution_id)
                if t.root is not None:
                    if found is None and in_store is not None:
                        continue
                    record = found if found is not None and found.status == t.root.status else _from_root(t.root, found)
                elif found is None or t.execution_id in rooted or t.execution_id in sent:
                    continue  # its root's updates in this message speak for it, or it was sent already
                else:
                    record = found
                if not execution_matches(on_root, record):
                    continue
                if below:
                    sent.add(t.execution_id)
                tap.at(t.key)
                fresh()
                yield record
