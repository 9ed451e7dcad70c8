"""The group commit's hold (ingest/writer.py): while several bulk clients write at once, a small commit waits for
their next requests and goes with them in one insert; a lone client's requests and single events never wait.

A writer of its own on the real stores, with a hold (HOLD) far longer than each test waits (WAIT), so a held commit
can only have ended because what it waited for arrived (HOLD_ROWS, or a request of each writer seen), never on its
deadline."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from ingest.records import Batch, CanonicalEvent
from ingest.writer import HOLD_ROWS, GroupCommitWriter
from server.state import AppState

TENANT = "commit-hold"
HOLD, WAIT = 60.0, 10.0


def _batch(rows: int) -> Batch:
    now = datetime.now(UTC)
    events = [CanonicalEvent(id=str(uuid.uuid4()), name="hold.test", timestamp=now, source="test") for _ in range(rows)]
    return Batch(events=events)


@pytest.fixture
async def writer(state: AppState) -> AsyncIterator[GroupCommitWriter]:
    writer = GroupCommitWriter(state.ch, state.pg, hold_seconds=HOLD)
    writer.start()
    try:
        yield writer
    finally:
        await writer.stop()


async def _wave(writer: GroupCommitWriter, *sizes: int) -> None:
    """Requests queued in one tick: one commit."""
    await asyncio.gather(*(writer.write(TENANT, _batch(n)) for n in sizes))


async def test_concurrent_bulk_requests_arriving_apart_go_in_one_insert(writer: GroupCommitWriter) -> None:
    await _wave(writer, 200, 200)  # two bulk clients at once
    inserts, holds = writer.inserts, writer.holds
    first = asyncio.create_task(writer.write(TENANT, _batch(HOLD_ROWS // 2)))
    for _ in range(1000):  # a few loop turns, until the writer takes it and holds it (or commits it at once)
        if writer.holds != holds or first.done():
            break
        await asyncio.sleep(0)
    assert writer.holds == holds + 1 and not first.done()
    await writer.write(TENANT, _batch(HOLD_ROWS // 2))  # a tick later, from the other client
    await asyncio.wait_for(first, WAIT)
    assert writer.inserts - inserts == 1  # both went in the held commit


async def _held(writer: GroupCommitWriter, rows: int) -> asyncio.Task[None]:
    """A request of `rows` rows, once the writer holds its commit."""
    holds = writer.holds
    task = asyncio.create_task(writer.write(TENANT, _batch(rows)))
    for _ in range(1000):
        if writer.holds != holds or task.done():
            break
        await asyncio.sleep(0)
    assert writer.holds == holds + 1 and not task.done()
    return task


async def test_a_hold_ends_once_every_writer_seen_is_back(writer: GroupCommitWriter) -> None:
    """Two clients of 1,000 rows can never make HOLD_ROWS: the held commit goes as soon as the second client's
    request is in hand, not at the hold's deadline, and so on wave after wave."""
    await _wave(writer, 1_000, 1_000)
    for _ in range(3):
        inserts = writer.inserts
        first = await _held(writer, 1_000)
        await asyncio.wait_for(writer.write(TENANT, _batch(1_000)), WAIT)
        await asyncio.wait_for(first, WAIT)
        assert writer.inserts - inserts == 1


async def test_a_single_event_after_bulk_writers_is_not_held(writer: GroupCommitWriter) -> None:
    await _wave(writer, 1_000, 1_000)
    holds = writer.holds
    await asyncio.wait_for(writer.write(TENANT, _batch(1)), WAIT)
    assert writer.holds == holds


async def test_a_lone_client_is_never_held(writer: GroupCommitWriter) -> None:
    for _ in range(3):
        await writer.write(TENANT, _batch(500))  # one request at a time: each its own commit, at once
    assert writer.holds == 0 and writer.inserts == 3


async def test_single_events_are_never_held(writer: GroupCommitWriter) -> None:
    for _ in range(3):
        await _wave(writer, *[1] * 20)  # twenty clients of one event each, three times
    assert writer.holds == 0 and writer.inserts == 3
