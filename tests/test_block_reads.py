"""Span reads convert ClickHouse's result a block at a time (ClickHouse.query_converted), so a big page is never
held as raw rows and records at once: in blocks far smaller than a trace the records are the ones a one-shot
read makes, whatever the window, the selection and the merging (a span of several pieces first seen in a late
block too); a read whose rows are found useless stops early; and a big read hands chDB's freed memory back at
once (storage/clickhouse/engine_memory.py), big by what ClickHouse read, not by what it returned."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from ingest.records import SpanPiece
from server.state import AppState
from storage.clickhouse.client import PURGE_AFTER_ROWS, ChdbClickHouse, EndOfRead
from storage.clickhouse.engine_memory import MemoryPurge
from storage.clickhouse.spans import (
    ALL_DETAILS,
    SpanRecord,
    SpanWindow,
    one_piece_read_sql,
    piece_read_sql,
    read_spans,
    read_sql,
)
from storage.errors import StoreUnavailable
from tests.big_traces import insert_big_trace
from tests.conftest import Tenant
from tests.test_span_reads import write

BLOCK = 16


async def _tenant_id(state: AppState, tenant: Tenant) -> str:
    return await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)


def _of_skeleton(row: tuple[Any, ...]) -> SpanRecord:
    """A skeleton row (read_sql without details) as from_row reads it: the detail fields empty."""
    return SpanRecord.from_row((*row[:8], "", "", "", "", "", "", 0, 0, 0, 0, *row[8:12]))


def _of_pieces(columns: Sequence[Sequence[Any]]) -> list[SpanRecord]:
    """Pieces as one_piece_read_sql gives them, each made a span of one piece."""
    return SpanRecord.of_piece_columns(columns, ALL_DETAILS)


def _of_piece(row: tuple[Any, ...]) -> SpanRecord:
    return _of_pieces([[value] for value in row])[0]


def _params(tenant_id: str, execution_id: str, window: SpanWindow) -> dict[str, Any]:
    params: dict[str, Any] = {"tenant": tenant_id, "ids": [execution_id]}
    if window.after is not None:
        params["after_start"], params["after_id"] = window.after
    if window.limit is not None:
        params["limit"] = window.limit
    return params


async def test_a_read_in_small_blocks_is_the_one_shot_read(
    tenant: Tenant, other_tenant: Tenant, state: AppState
) -> None:
    tid, other, ex = await _tenant_id(state, tenant), await _tenant_id(state, other_tenant), f"e-{uuid.uuid4().hex}"
    await insert_big_trace(state.ch, tid, ex, 300)
    await insert_big_trace(state.ch, other, ex, 50)  # the same execution under another tenant
    # two spans of two pieces each: the reads that merge them
    await write(state, tid, ex, "s7", datetime(2024, 1, 2, tzinfo=UTC), SpanPiece(name="renamed"))
    await write(state, tid, ex, "s200", datetime(2024, 1, 2, tzinfo=UTC), SpanPiece(status="FAILED"))
    s150_start = (await read_spans(state.ch, tid, [ex]))[150].start_time
    windows = [SpanWindow(), SpanWindow(100), SpanWindow(100, (s150_start, "s150")), SpanWindow(60, descending=True),
               SpanWindow(5)]  # fmt: skip
    for window in windows:
        params = _params(tid, ex, window)
        # (SQL, row to record, block to records, whether its rows come in blocks of BLOCK): the page of one
        # execution past a LIMIT comes as one block, ClickHouse reading its texts after the LIMIT at once
        shapes: list[tuple[str, Callable[..., SpanRecord], Callable[..., list[SpanRecord]], bool]] = [
            (read_sql(window, ALL_DETAILS), SpanRecord.from_row, SpanRecord.from_columns, True),
            (read_sql(window, frozenset()), _of_skeleton, SpanRecord.of_skeleton_columns, True),
            (read_sql(window, frozenset({"inputs"})), SpanRecord.from_row, SpanRecord.from_columns, True),
            (one_piece_read_sql(window, ALL_DETAILS, 1), _of_piece, _of_pieces, window.limit is None),
            (one_piece_read_sql(window, ALL_DETAILS, 2), _of_piece, _of_pieces, True),  # several executions' form
        ]
        for sql, from_row, from_columns, in_blocks_of_block in shapes:
            one_shot = [from_row(row) for row in (await state.ch.query(sql, params)).rows]
            blocks: list[int] = []

            def convert(
                columns: Sequence[Sequence[Any]], make: Any = from_columns, blocks: list[int] = blocks
            ) -> list[SpanRecord]:
                blocks.append(len(columns[0]))
                return make(columns)

            in_blocks = await state.ch.query_converted(sql, params, convert, block_rows=BLOCK)
            assert in_blocks == one_shot, (window, sql)
            if len(one_shot) > BLOCK and in_blocks_of_block:  # made in several blocks, none bigger than asked
                assert len(blocks) > 1 and max(blocks) <= BLOCK, blocks

    # read_spans itself in small blocks: s7's second piece (no start: sorted by its time, after every span) is
    # seen in the pieces read's first block; in `late`, s250's second piece has s250's start, so the span of
    # several pieces is first seen in the pieces read's 16th block, after 15 were converted. Either way the
    # merging read answers, as in one block.
    late = f"e-{uuid.uuid4().hex}"
    await insert_big_trace(state.ch, tid, late, 300)
    s250_start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(milliseconds=250)
    await write(
        state, tid, late, "s250", datetime(2024, 1, 2, tzinfo=UTC), SpanPiece(name="late", start_time=s250_start)
    )
    whole = SpanWindow()
    span_pieces = [
        r[-1] for r in (await state.ch.query(piece_read_sql(whole, ALL_DETAILS), _params(tid, late, whole))).rows
    ]
    assert set(span_pieces[: 15 * BLOCK]) == {1} and span_pieces[250:252] == [2, 2]
    for execution, window in [*((ex, w) for w in windows), (late, whole), (late, SpanWindow(260))]:
        for details in (ALL_DETAILS, frozenset(), frozenset({"outputs"})):
            rows = (await state.ch.query(read_sql(window, details), _params(tid, execution, window))).rows
            one_shot = [SpanRecord.from_row(r) if details else _of_skeleton(r) for r in rows]
            assert await read_spans(state.ch, tid, [execution], window, details, block_rows=BLOCK) == one_shot, window
            assert await read_spans(state.ch, tid, [execution], window, details) == one_shot, window
    s250 = (await read_spans(state.ch, tid, [late], block_rows=BLOCK))[250]
    assert (s250.id, s250.name, s250.pieces) == ("s250", "late", 2)

    merged = {s.id: s for s in await read_spans(state.ch, tid, [ex])}
    assert len(merged) == 300 and (merged["s7"].name, merged["s7"].pieces) == ("renamed", 2)
    assert merged["s200"].status == "FAILED" and merged["s1"].status == "SUCCEEDED"
    elsewhere = await read_spans(state.ch, other, [ex])  # the other tenant's spans only, unmerged with these
    assert len(elsewhere) == 50 and elsewhere[7].name == "step-7" and elsewhere[7].pieces == 1


async def test_pieces_read_in_small_blocks_is_the_page(tenant: Tenant, state: AppState) -> None:
    """A trace of spans of one piece each: the pieces read (piece_read_sql, each piece as stored, made a span
    by SpanRecord.of_piece_columns) is the page, in any block size: spans still running (no end, whatever
    end their piece gave), token counts without usage (none), a page small enough to count what it read."""
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    await insert_big_trace(state.ch, tid, ex, 200)
    at = datetime(2024, 1, 1, tzinfo=UTC)
    start, end = at + timedelta(milliseconds=33), at + timedelta(seconds=9)
    still_running = SpanPiece(name="running", start_time=start, end_time=end, input_tokens=7)
    await write(state, tid, ex, "running", at + timedelta(milliseconds=33), still_running)
    await write(state, tid, ex, "bare", at + timedelta(milliseconds=90), SpanPiece(status="CANCELLED", output_tokens=3))
    for window in (SpanWindow(), SpanWindow(100), SpanWindow(70, descending=True), SpanWindow(PURGE_AFTER_ROWS)):
        for details in (ALL_DETAILS, frozenset(), frozenset({"usage"}), frozenset({"inputs"})):
            rows = (await state.ch.query(read_sql(window, details), _params(tid, ex, window))).rows
            one_shot = [SpanRecord.from_row(r) if details else _of_skeleton(r) for r in rows]
            assert len(one_shot) == min(window.limit or 202, 202)
            sql = piece_read_sql(window, details)
            assert ("pieces_read" in sql) == (window.limit is not None and window.limit < PURGE_AFTER_ROWS)

            def make(columns: Sequence[Sequence[Any]], details: frozenset[str] = details) -> list[SpanRecord]:
                return SpanRecord.of_piece_columns(columns, details)

            in_blocks = await state.ch.query_converted(sql, _params(tid, ex, window), make, block_rows=BLOCK)
            assert in_blocks == one_shot, (window, details)
            assert await read_spans(state.ch, tid, [ex], window, details, block_rows=BLOCK) == one_shot
    spans = {s.id: s for s in await read_spans(state.ch, tid, [ex])}
    running, bare = spans["running"], spans["bare"]
    assert (running.status, running.end_time, running.end_iso, running.input_tokens) == ("RUNNING", None, None, 0)
    assert (bare.status, bare.end_iso, bare.output_tokens, bare.pieces) == ("CANCELLED", None, 0, 1)


async def test_a_convert_ends_its_read_early_and_the_store_stays_usable(state: AppState) -> None:
    blocks = 0

    def first_two_blocks(columns: Sequence[Sequence[Any]]) -> Sequence[Any]:
        nonlocal blocks
        blocks += 1
        if blocks == 3:
            raise EndOfRead
        return columns[0]

    numbers = await state.ch.query_converted("SELECT number FROM numbers(100000)", {}, first_two_blocks, 100)
    assert (blocks, list(numbers)) == (3, list(range(200)))
    # every handle is free again: as many reads at once as the store has handles, and one more
    counted = await asyncio.gather(*(state.ch.query("SELECT count() FROM numbers(10)") for _ in range(6)))
    assert all(rows.rows == [(10,)] for rows in counted)


async def test_a_pieces_read_stops_at_its_first_span_of_several_pieces(
    tenant: Tenant, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    await insert_big_trace(state.ch, tid, ex, 300)
    await write(state, tid, ex, "s20", datetime(2024, 1, 2, tzinfo=UTC), SpanPiece(name="renamed"))  # in block 2
    converted: list[tuple[str, int]] = []  # (sql, blocks converted)
    query_converted = state.ch.query_converted

    async def counting(sql: str, params: Any, convert: Any, block_rows: int = 2048, settings: Any = None) -> list[Any]:
        converted.append((sql, 0))

        def counted(columns: Sequence[Sequence[Any]]) -> Any:
            converted[-1] = (sql, converted[-1][1] + 1)
            return convert(columns)

        return await query_converted(sql, params, counted, block_rows, settings)

    monkeypatch.setattr(state.ch, "query_converted", counting)
    spans = await read_spans(state.ch, tid, [ex], block_rows=BLOCK)
    assert len(spans) == 300 and spans[20].name == "renamed" and spans[20].pieces == 2
    (pieces_sql, pieces_blocks), (merged_sql, merged_blocks) = converted
    assert pieces_sql == piece_read_sql(SpanWindow(), ALL_DETAILS) and merged_sql == read_sql(SpanWindow(), ALL_DETAILS)
    assert pieces_blocks == 2 and merged_blocks == -(-300 // BLOCK)  # not the 19 blocks of the whole pieces read


async def test_records_of_one_block_share_what_spans_repeat(tenant: Tenant, state: AppState) -> None:
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    await insert_big_trace(state.ch, tid, ex, 40)
    spans = await read_spans(state.ch, tid, [ex])
    assert len({id(s.execution_id) for s in spans}) == 1 and len({id(s.status) for s in spans}) <= 2
    children_of_s0 = [s for s in spans if s.parent_id == "s0"]
    assert len(children_of_s0) == 8 and len({id(s.parent_id) for s in children_of_s0}) == 1
    assert all(s.last_ts is s.start_time for s in spans)  # one piece each, written at its start


async def test_a_query_error_in_the_middle_of_a_stream_is_that_query_s_error(state: AppState) -> None:
    with pytest.raises(DatabaseError, match="boom") as caught:
        await state.ch.query_converted(
            "SELECT throwIf(number = 5000, 'boom') AS x FROM numbers(10000)", {}, lambda columns: columns[0], 100
        )
    assert not isinstance(caught.value, StoreUnavailable)  # not an outage: retrying would fail the same way


async def test_a_big_read_hands_chdbs_freed_memory_back(tenant: Tenant, state: AppState) -> None:
    ch = state.ch
    assert isinstance(ch, ChdbClickHouse)
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    small = f"e-{uuid.uuid4().hex}"
    await insert_big_trace(ch, tid, ex, PURGE_AFTER_ROWS)
    await insert_big_trace(ch, tid, small, PURGE_AFTER_ROWS - 1)
    requested, purges = ch.memory.requested, ch.memory.purges
    assert len(await read_spans(ch, tid, [small])) == PURGE_AFTER_ROWS - 1
    assert len(await read_spans(ch, tid, [small], SpanWindow(100))) == 100
    assert ch.memory.requested == requested  # a small read leaves chDB's allocator alone
    # a first page of 100 spans sorts all 10,000 pieces of its trace: big by what was read, not returned
    assert len(await read_spans(ch, tid, [ex], SpanWindow(100), frozenset())) == 100
    assert ch.memory.requested == requested + 1
    assert len(await read_spans(ch, tid, [ex])) == PURGE_AFTER_ROWS
    assert ch.memory.requested == requested + 2
    deadline = time.monotonic() + 30
    while ch.memory.purges == purges:  # the engine accepted the purge
        assert time.monotonic() < deadline, "chDB purged its memory in time"
        await asyncio.sleep(0.01)


async def test_purges_coalesce_and_one_refused_stops_them() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    calls = 0

    async def purge() -> None:
        nonlocal calls
        calls += 1
        started.set()
        await release.wait()

    memory = MemoryPurge(purge)
    memory.request()
    await started.wait()
    memory.request()  # while one runs: one more after it, however many ask
    memory.request()
    release.set()
    await memory.wait()
    assert (calls, memory.purges, memory.requested) == (2, 2, 3)

    async def refused() -> None:
        raise DatabaseError("Code: 1. DB::Exception: jemalloc is not used")

    stopped = MemoryPurge(refused)
    stopped.request()
    await stopped.wait()
    stopped.request()  # never asked again
    await stopped.wait()
    assert (stopped.purges, stopped.requested) == (0, 1)
