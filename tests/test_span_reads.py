"""The merge rules of storage/clickhouse/spans.py, one by one, on pieces written through the real store."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ingest.records import Batch, CanonicalEvent, SpanPiece
from server.state import AppState
from storage.clickhouse import spans
from storage.clickhouse.spans import (
    ALL_DETAILS,
    PIECE_READ_SETTINGS,
    SpanRecord,
    SpanWindow,
    piece_read_sql,
    read_spans,
    spans_by_keys,
    spans_of_executions,
    trace_with_event_ids,
)
from tests.big_traces import insert_big_trace
from tests.conftest import Tenant

T0 = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
FIELDS = ("parent_span_id", "name", "kind", "inputs", "outputs", "error", "attributes", "usage", "cost")


def _value(field: str, tag: str) -> str:
    """A value as the adapters store it: usage and cost are JSON lists (the writer prices them)."""
    if field == "usage":
        return f'[{{"model": "{field}-{tag}", "input_tokens": 1}}]'  # a model no price table knows
    if field == "cost":
        return f'[{{"value": 1, "unit": "{field}-{tag}", "source": "reported"}}]'
    return f"{tag}-{field}"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def _tenant_id(state: AppState, tenant: Tenant) -> str:
    return await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)


async def write(state: AppState, tenant_id: str, execution_id: str, span_id: str, ts: datetime, piece: SpanPiece,
                event_id: str | None = None) -> str:  # fmt: skip
    event_id = event_id or str(uuid.uuid4())
    event = CanonicalEvent(id=event_id, name="span.piece", timestamp=ts, source="graphql", execution_id=execution_id,
                           span_id=span_id, span=piece)  # fmt: skip
    await state.writer.write(tenant_id, Batch(events=[event]))
    return event_id


async def both_reads(state: AppState, tenant_id: str, execution_id: str) -> dict[str, SpanRecord]:
    """The span as each read shows it: they must agree."""
    listed = {s.id: s for s in await spans_of_executions(state.ch, tenant_id, [execution_id])}
    traced, _ = await trace_with_event_ids(state.ch, tenant_id, execution_id)
    assert [dataclasses.replace(s, basis=None) for s in traced] == list(listed.values())
    keyed = await spans_by_keys(state.ch, tenant_id, [(execution_id, span_id) for span_id in listed])
    assert keyed == list(listed.values())  # one span read on its own merges as its trace does
    skeletons = await read_spans(state.ch, tenant_id, [execution_id], SpanWindow(), frozenset())
    blank = {"inputs": "", "outputs": "", "error": "", "attributes": "", "usage": "", "cost": "", "input_tokens": 0,
             "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}  # fmt: skip
    assert skeletons == [dataclasses.replace(s, **blank) for s in listed.values()]  # a read without details
    return listed


async def test_every_field_is_the_latest_piece_that_says_something(tenant: Tenant, state: AppState) -> None:
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    late = SpanPiece(**{f: _value(f, "late") for f in FIELDS}, input_tokens=2, output_tokens=3,
                     cache_creation_input_tokens=4, cache_read_input_tokens=5)  # fmt: skip
    early = SpanPiece(**{f: _value(f, "early") for f in FIELDS}, input_tokens=20, output_tokens=30,
                      cache_creation_input_tokens=40, cache_read_input_tokens=50)  # fmt: skip
    # written latest first; the latest piece says nothing (an empty piece does not erase), its tokens
    # without usage do not count either
    await write(state, tid, ex, "s", at(3), SpanPiece(input_tokens=99, output_tokens=99))
    await write(state, tid, ex, "s", at(2), late)
    await write(state, tid, ex, "s", at(1), early)
    span = (await both_reads(state, tid, ex))["s"]
    assert (span.parent_id, span.name, span.kind, span.inputs, span.outputs, span.error, span.attributes,
            span.usage, span.cost) == tuple(_value(f, "late") for f in FIELDS)  # fmt: skip
    tokens = (span.input_tokens, span.output_tokens, span.cache_creation_input_tokens, span.cache_read_input_tokens)
    assert tokens == (2, 3, 4, 5)
    assert (span.status, span.end_time, span.end_iso, span.pieces, span.last_ts) == ("RUNNING", None, None, 3, at(3))


async def test_start_end_and_status_of_two_terminal_pieces(tenant: Tenant, state: AppState) -> None:
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    await write(state, tid, ex, "s", at(10), SpanPiece(status="FAILED", end_time=at(10)))
    await write(state, tid, ex, "s", at(0), SpanPiece(status="RUNNING", start_time=at(0)))
    await write(state, tid, ex, "s", at(5), SpanPiece(status="SUCCEEDED", start_time=at(1), end_time=at(12)))
    await write(state, tid, ex, "s", at(20), SpanPiece(status="RUNNING"))  # a late non-terminal piece
    span = (await both_reads(state, tid, ex))["s"]
    # the latest terminal piece's status; the earliest start; the latest end of any piece
    assert span.status == "FAILED"
    assert (span.start_time, span.end_time) == (at(0), at(12))
    assert (span.start_iso, span.end_iso) == ("2024-05-06T07:08:09.123456Z", "2024-05-06T07:08:21.123456Z")
    assert span.duration_ms == 12_000.0


async def test_an_end_shows_only_once_the_span_is_terminal(tenant: Tenant, state: AppState) -> None:
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    await write(state, tid, ex, "s", at(0), SpanPiece(status="RUNNING", start_time=at(0), end_time=at(4)))
    assert ((await both_reads(state, tid, ex))["s"].end_time, (await both_reads(state, tid, ex))["s"].end_iso) == (
        None, None)  # fmt: skip
    await write(state, tid, ex, "s", at(1), SpanPiece(status="SUCCEEDED"))  # the end a running piece gave counts
    assert (await both_reads(state, tid, ex))["s"].end_time == at(4)


async def test_cancelled_is_terminal(tenant: Tenant, state: AppState) -> None:
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    await write(state, tid, ex, "s", at(0), SpanPiece(status="RUNNING", start_time=at(0)))
    await write(state, tid, ex, "s", at(1), SpanPiece(status="CANCELLED", end_time=at(1)))
    await write(state, tid, ex, "s", at(2), SpanPiece(status="RUNNING"))
    span = (await both_reads(state, tid, ex))["s"]
    assert (span.status, span.end_time, span.end_iso) == ("CANCELLED", at(1), "2024-05-06T07:08:10.123456Z")


async def test_start_time_missing_from_the_first_piece(tenant: Tenant, state: AppState) -> None:
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    # a start given by any piece wins over the pieces' times, even when it is later than the first piece
    await write(state, tid, ex, "given", at(0), SpanPiece(name="x"))
    await write(state, tid, ex, "given", at(4), SpanPiece(start_time=at(3)))
    await write(state, tid, ex, "given", at(6), SpanPiece(start_time=at(5)))
    # no piece gives a start: the earliest piece's time
    await write(state, tid, ex, "none", at(8), SpanPiece(name="y"))
    await write(state, tid, ex, "none", at(7), SpanPiece(name="z"))
    spans = await both_reads(state, tid, ex)
    assert (spans["given"].start_time, spans["given"].start_iso) == (at(3), "2024-05-06T07:08:12.123456Z")
    assert (spans["none"].start_time, spans["none"].name) == (at(7), "y")
    # the reads order spans by start
    traced, _ = await trace_with_event_ids(state.ch, tid, ex)
    assert [s.id for s in traced] == ["given", "none"]


async def test_a_piece_sent_twice_counts_once(tenant: Tenant, state: AppState) -> None:
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    first = await write(state, tid, ex, "s", at(0), SpanPiece(status="RUNNING", start_time=at(0)))
    await write(state, tid, ex, "s", at(0), SpanPiece(status="RUNNING", start_time=at(0)), event_id=first)
    second = await write(state, tid, ex, "s", at(1), SpanPiece(outputs="o"))
    span = (await both_reads(state, tid, ex))["s"]
    assert span.pieces == 2
    _, event_ids = await trace_with_event_ids(state.ch, tid, ex)
    assert event_ids == {f"graphql\x00{first}", f"graphql\x00{second}"}  # event keys: source and id


async def test_reads_see_only_the_callers_tenant_and_execution(
    tenant: Tenant, other_tenant: Tenant, state: AppState
) -> None:
    mine, theirs = await _tenant_id(state, tenant), await _tenant_id(state, other_tenant)
    ex, other_ex = f"e-{uuid.uuid4().hex}", f"e-{uuid.uuid4().hex}"
    await write(state, mine, ex, "a", at(0), SpanPiece(name="mine"))
    await write(state, mine, other_ex, "b", at(0), SpanPiece(name="my other execution"))
    await write(state, theirs, ex, "a", at(1), SpanPiece(name="theirs"))
    await write(state, theirs, ex, "c", at(1), SpanPiece(name="theirs too"))
    spans = await both_reads(state, mine, ex)
    assert [(s.id, s.name, s.pieces) for s in spans.values()] == [("a", "mine", 1)]
    listed = await spans_of_executions(state.ch, mine, [other_ex, ex])
    assert [(s.execution_id, s.id) for s in listed] == sorted([(ex, "a"), (other_ex, "b")])
    # by key: an id pair, never a span of the same id in another execution or another tenant's
    keyed = await spans_by_keys(state.ch, mine, [(ex, "a"), (ex, "b"), (ex, "c"), (other_ex, "a")])
    assert [(s.execution_id, s.id, s.name) for s in keyed] == [(ex, "a", "mine")]


async def test_one_span_reads_the_same_with_or_without_its_tree(tenant: Tenant, other_tenant: Tenant) -> None:
    """`span(executionId, spanId)` reads only that span unless parent or children are asked for: both ways
    give the same span, and neither finds another tenant's."""
    ex = f"e-{uuid.uuid4().hex}"
    spans = [{"id": "root", "executionId": ex, "name": "root", "startTime": at(0).isoformat(),
              "endTime": at(5).isoformat()},
             {"id": "leaf", "executionId": ex, "parentId": "root", "name": "leaf", "kind": "llm",
              "startTime": at(1).isoformat(), "endTime": at(2).isoformat(), "inputs": {"q": 1}, "outputs": {"a": 2},
              "usage": {"model": "m", "inputTokens": 3, "outputTokens": 4}, "cost": {"value": 0.5, "unit": "USD"}}]
    await tenant.gql_data("mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }", {"s": spans})
    fields = "id name kind status startTime endTime inputs outputs usage { totalTokens } cost { value unit source }"
    alone = f"query($e: ID!, $s: ID!) {{ span(executionId: $e, spanId: $s) {{ {fields} }} }}"
    tree = f"query($e: ID!, $s: ID!) {{ span(executionId: $e, spanId: $s) {{ {fields} ...up }} }} " \
        "fragment up on Span { parent { id } children { id } }"
    one = (await tenant.gql_data(alone, {"e": ex, "s": "leaf"}))["span"]
    walked = (await tenant.gql_data(tree, {"e": ex, "s": "leaf"}))["span"]
    assert walked.pop("parent") == {"id": "root"} and walked.pop("children") == []
    assert one == walked and one["outputs"] == {"a": 2} and one["usage"] == {"totalTokens": 7}
    assert (await tenant.gql_data(alone, {"e": ex, "s": "missing"}))["span"] is None
    assert (await other_tenant.gql_data(alone, {"e": ex, "s": "leaf"}))["span"] is None


async def test_every_window_of_spans_in_one_piece_and_in_several_is_the_merged_trace_cut(
    tenant: Tenant, state: AppState
) -> None:
    """read_spans reads a window's pieces as they are, and trusts them only when no row's span has another
    piece: every window (each size, keyset, direction; with and without details) of a trace mixing both
    is the merged trace's slice. `m` has a piece sorting before every span's start, `n` one after them all."""
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    for span_id, second in (("a", 1), ("c", 3), ("e", 5)):
        await write(state, tid, ex, span_id, at(second), SpanPiece(name=span_id, start_time=at(second), inputs="i"))
    await write(state, tid, ex, "m", at(0), SpanPiece(name="m0", inputs="early"))  # no start: sorts at its time
    await write(state, tid, ex, "m", at(6), SpanPiece(start_time=at(4), status="SUCCEEDED", end_time=at(7)))
    await write(state, tid, ex, "n", at(2), SpanPiece(name="n", start_time=at(2)))
    await write(state, tid, ex, "n", at(9), SpanPiece(outputs="late"))
    traced, _ = await trace_with_event_ids(state.ch, tid, ex)
    merged = [dataclasses.replace(s, basis=None) for s in traced]
    assert [s.id for s in merged] == ["a", "n", "c", "m", "e"]
    blank = {"inputs": "", "outputs": "", "error": "", "attributes": "", "usage": "", "cost": "", "input_tokens": 0,
             "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}  # fmt: skip
    for descending in (False, True):
        ordered = merged[::-1] if descending else merged
        for start in range(len(ordered)):
            after = (ordered[start - 1].start_time, ordered[start - 1].id) if start else None
            for limit in range(1, 7):
                window = SpanWindow(limit, after, descending)
                expected = ordered[start : start + limit]
                assert await read_spans(state.ch, tid, [ex], window) == expected, window
                skeletons = await read_spans(state.ch, tid, [ex], window, frozenset())
                assert skeletons == [dataclasses.replace(s, **blank) for s in expected], window


async def test_a_window_of_spans_in_one_piece_is_one_query(tenant: Tenant, state: AppState) -> None:
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    for i in range(5):
        await write(state, tid, ex, f"s{i}", at(i), SpanPiece(name=f"s{i}", start_time=at(i), inputs="i"))
    for details in (frozenset({"inputs"}), frozenset()):
        for window in (SpanWindow(), SpanWindow(3), SpanWindow(2, (at(1), "s1")), SpanWindow(2, (at(3), "s3"), True)):
            before = state.ch.queries
            spans = await read_spans(state.ch, tid, [ex], window, details)
            assert state.ch.queries == before + 1 and spans, window


async def test_the_pieces_read_chooses_its_trace_by_primary_key_without_plan_optimizations(
    tenant: Tenant, state: AppState
) -> None:
    """The pieces read (a whole trace, or its first page) runs with ClickHouse's plan optimizations off
    (PIECE_READ_SETTINGS): its plan must still read only the key range of its tenant and execution, which
    ReadFromMergeTree chooses itself, not scan the table and filter."""
    tid = await _tenant_id(state, tenant)
    for ex in ("pk-a", "pk-b", "pk-c"):  # an insert each: a part each
        await insert_big_trace(state.ch, tid, ex, 300)
    settings = ", ".join(f"{name} = {value}" for name, value in PIECE_READ_SETTINGS.items())
    for window in (SpanWindow(), SpanWindow(100)):
        sql = f"EXPLAIN indexes = 1 {piece_read_sql(window, ALL_DETAILS)} SETTINGS {settings}"
        params: dict[str, object] = {"tenant": tid, "ids": ["pk-b"], "limit": 100}
        plan = "\n".join(row[0] for row in (await state.ch.query(sql, params)).rows)
        key = plan[plan.index("PrimaryKey") :]
        chosen, parts = map(int, key.split("Parts: ")[1].split()[0].split("/"))
        assert "execution_id" in key.split("Condition:")[0] and chosen < parts, plan  # the other traces' parts skipped
        page = await read_spans(state.ch, tid, ["pk-b"], window)
        assert [s.id for s in page] == [f"s{i}" for i in range(300 if window.limit is None else 100)]


async def test_pages_past_a_cursor_with_spans_in_pieces_across_their_boundaries(
    tenant: Tenant, other_tenant: Tenant, state: AppState
) -> None:
    """A page past a cursor reads pieces as they are, past the keyset by each piece's own (start, span id), and
    trusts its rows only when none's span has another piece anywhere in the trace: each page, both ways, of a
    trace whose spans of several pieces straddle the pages' boundaries (a piece sorting long before or after
    its span, two pieces at one start, a tie on start) is the merged trace's slice, and only a page whose rows
    meet such a span pays for the merging read. Two executions read at once are paged each; another tenant's
    execution of the same id is neither read nor merged with it."""
    tid, other = await _tenant_id(state, tenant), await _tenant_id(state, other_tenant)
    ex, ex2 = f"e-{uuid.uuid4().hex}", f"e-{uuid.uuid4().hex}"
    await insert_big_trace(state.ch, tid, ex, 120)  # s0 … s119, one piece each, s{i} starting at ms(i)
    await insert_big_trace(state.ch, tid, ex2, 40)
    await insert_big_trace(state.ch, other, ex, 200)

    def ms(i: float) -> datetime:
        return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(milliseconds=i)

    # each span of several pieces with its pieces' own (start, span id): the first its span's
    several = {
        "s29": [(ms(29), "s29"), (ms(10_000), "s29")],  # + a piece without a start, after every span
        "s60": [(ms(60), "s60"), (ms(-1_000), "s60")],  # + a piece without a start, before every span
        "x": [(ms(30.5), "x"), (ms(90.5), "x")],  # its start is its second piece's; its first has none
        "u": [(ms(75), "u"), (ms(75), "u")],  # two pieces giving one start, s75's (ties: by span id)
    }
    await write(state, tid, ex, "s29", ms(10_000), SpanPiece(outputs="late"))
    await write(state, tid, ex, "s60", ms(-1_000), SpanPiece(name="early"))
    await write(state, tid, ex, "x", ms(90.5), SpanPiece(name="x"))
    await write(state, tid, ex, "x", ms(95), SpanPiece(start_time=ms(30.5), status="SUCCEEDED", end_time=ms(96)))
    await write(state, tid, ex, "t", ms(45), SpanPiece(name="t", start_time=ms(45)))  # one piece, s45's start
    await write(state, tid, ex, "u", ms(75), SpanPiece(name="u", start_time=ms(75)))
    await write(state, tid, ex, "u", ms(76), SpanPiece(start_time=ms(75), inputs="u"))
    traced, _ = await trace_with_event_ids(state.ch, tid, ex)
    merged = [dataclasses.replace(s, basis=None) for s in traced]
    assert len(merged) == 123 and {s.id for s in merged if s.pieces > 1} == set(several)
    assert [s.id for s in merged[29:33]] == ["s29", "s30", "x", "s31"] and merged[47].id == "t"
    pieces = [(s.start_time, s.id) for s in merged if s.pieces == 1] + [k for keys in several.values() for k in keys]
    blank = {"inputs": "", "outputs": "", "error": "", "attributes": "", "usage": "", "cost": "", "input_tokens": 0,
             "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}  # fmt: skip
    merging_pages = 0
    for descending in (False, True):
        ordered = merged[::-1] if descending else merged
        for size in (10, 25):
            for first in range(size, len(ordered), size):
                after = (ordered[first - 1].start_time, ordered[first - 1].id)
                window = SpanWindow(size, after, descending)
                before = state.ch.queries
                assert await read_spans(state.ch, tid, [ex], window) == ordered[first : first + size], window
                # the pieces read past the keyset: the merging read answers when one is of a span of several
                read = sorted((k for k in pieces if (k < after if descending else k > after)), reverse=descending)
                merging = any(span_id in several for _, span_id in read[:size])
                assert state.ch.queries - before == 1 + merging, window
                merging_pages += merging
                skeletons = await read_spans(state.ch, tid, [ex], window, frozenset())
                assert skeletons == [dataclasses.replace(s, **blank) for s in ordered[first : first + size]]
    assert 0 < merging_pages < 20  # of 20 pages past a cursor each way

    # two executions at once: each its own page past the same keyset
    second = await read_spans(state.ch, tid, [ex2])
    for after in ((ms(29), "s29"), (ms(30.5), "x"), (ms(45), "t")):
        for descending in (False, True):
            expected = [s for trace in sorted([(ex, merged), (ex2, second)]) for s in
                        [s for s in (trace[1][::-1] if descending else trace[1])
                         if ((s.start_time, s.id) < after if descending else (s.start_time, s.id) > after)][:10]]
            assert await read_spans(state.ch, tid, [ex, ex2], SpanWindow(10, after, descending)) == expected
    # the other tenant's execution of the same id: its own spans of one piece, nothing of these
    theirs = await read_spans(state.ch, other, [ex], SpanWindow(10, (ms(29), "s29")))
    assert [(s.id, s.name, s.pieces) for s in theirs] == [(f"s{i}", f"step-{i}", 1) for i in range(30, 40)]


async def test_a_page_past_a_cursor_reads_a_piece_stored_twice_once(tenant: Tenant, state: AppState) -> None:
    """A page past a cursor (and any first page, or a whole trace: the pieces read too) reads the pieces without
    FINAL: a piece stored twice and not yet merged (the same event sent again) is then two rows of its span,
    which must make the page fall back to the merging read (FINAL), never show the span twice or as two pieces.
    Merges are held off so that both copies are still stored when the pages are read."""
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    await insert_big_trace(state.ch, tid, ex, 2_100)
    await state.ch.command("SYSTEM STOP MERGES spans")
    try:
        ts = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(milliseconds=1_050)
        twice = SpanPiece(name="twice", start_time=ts, status="SUCCEEDED", end_time=ts, inputs="i")
        event_id = await write(state, tid, ex, "z", ts, twice)
        await write(state, tid, ex, "z", ts, twice, event_id=event_id)
        stored = await state.ch.query(
            "SELECT count() FROM spans WHERE tenant_id = {t:String} AND execution_id = {e:String} AND span_id = 'z'",
            {"t": tid, "e": ex},
        )
        assert stored.rows[0][0] == 2  # both copies still stored: what the reads below must see through
        merged = await spans_of_executions(state.ch, tid, [ex])
        assert len(merged) == 2_101 and [s.pieces for s in merged if s.id == "z"] == [1]
        for descending in (False, True):
            ordered = merged[::-1] if descending else merged
            for first, size in ((1_000, 100), (1_045, 10), (0, 2_000), (1, 2_100), (0, 1_100)):
                after = (ordered[first - 1].start_time, ordered[first - 1].id) if first else None
                window = SpanWindow(size, after, descending)
                assert await read_spans(state.ch, tid, [ex], window) == ordered[first : first + size], window
    finally:
        await state.ch.command("SYSTEM START MERGES spans")


async def test_a_span_read_twice_in_a_page_makes_it_fall_back_even_unflagged(
    tenant: Tenant, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The several-pieces set is a subquery, which may see the table's parts from before a piece committed
    meanwhile that the page's scan sees: a span whose two pieces are both in the page's rows, though unflagged
    (the set made empty here), still makes the merging read answer, never shows the span twice."""
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    await insert_big_trace(state.ch, tid, ex, 2_100)
    ts = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(milliseconds=1_050)
    await write(state, tid, ex, "z", ts, SpanPiece(name="z", start_time=ts))
    await write(state, tid, ex, "z", ts + timedelta(milliseconds=1), SpanPiece(start_time=ts, outputs="late"))
    merged = await spans_of_executions(state.ch, tid, [ex])
    assert [(s.pieces, s.outputs) for s in merged if s.id == "z"] == [(2, "late")]
    for name in ("_SEVERAL_PIECES", "_SEVERAL_PIECES_OF_ONE"):
        monkeypatch.setattr(spans, name, "0")  # no span flagged: only the rows can tell
    for descending in (False, True):
        ordered = merged[::-1] if descending else merged
        for first, size in ((1_000, 100), (0, 2_000)):
            after = (ordered[first - 1].start_time, ordered[first - 1].id) if first else None
            window = SpanWindow(size, after, descending)
            assert await read_spans(state.ch, tid, [ex], window) == ordered[first : first + size], window
