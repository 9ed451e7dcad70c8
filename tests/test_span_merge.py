"""The span merge exists twice: in SQL at read time (storage/clickhouse/spans.py) and in Python for live
updates (resolvers/live_merge.py). Whatever pieces a span gets, in whatever order, both must say the same.

Pieces are generated (any order, fields missing, duplicates, several terminal pieces, CANCELLED, no start
time on the first piece…), written through the real store, read back, and compared with the Python merge.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingest.records import Batch, CanonicalEvent, SpanPiece
from resolvers.live_merge import SpanState
from server.state import AppState
from storage.clickhouse.spans import SpanRecord, spans_of_executions, trace_with_event_ids
from tests.conftest import Tenant

BASE = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
STATUSES = ("", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")


def _time(offset_ms: int | None) -> datetime | None:
    return None if offset_ms is None else BASE + timedelta(milliseconds=offset_ms, microseconds=offset_ms % 7)


def _text(field: str) -> st.SearchStrategy[str]:
    # few distinct values, so pieces often agree or overwrite each other
    return st.sampled_from(("", "", _value(field, "a"), _value(field, "b")))


def _value(field: str, tag: str) -> str:
    """A value as the adapters store it: usage and cost are JSON lists (the writer prices them), the other
    blobs any text."""
    if field == "usage":
        return f'[{{"model": "{field}-{tag}", "input_tokens": 1}}]'  # a model no price table knows
    if field == "cost":
        return f'[{{"value": 1, "unit": "{field}-{tag}", "source": "reported"}}]'
    return f"{field}-{tag}"


@st.composite
def pieces(draw: st.DrawFn) -> tuple[list[tuple[str, datetime, SpanPiece]], list[int]]:
    """(event id, ts, piece) in the order they were generated, and the order they arrive in (with repeats)."""
    count = draw(st.integers(1, 6))
    # distinct times: two pieces of one span at the same microsecond leave "latest" undefined
    offsets = draw(st.lists(st.integers(0, 5_000), min_size=count, max_size=count, unique=True))
    out = []
    for offset in offsets:
        usage = draw(_text("usage"))
        piece = SpanPiece(
            parent_span_id=draw(_text("parent")),
            name=draw(_text("name")),
            kind=draw(st.sampled_from(("", "NODE", "LLM"))),
            status=draw(st.sampled_from(STATUSES)),
            start_time=_time(draw(st.none() | st.integers(0, 5_000))),
            end_time=_time(draw(st.none() | st.integers(0, 9_000))),
            inputs=draw(_text("inputs")),
            outputs=draw(_text("outputs")),
            error=draw(_text("error")),
            attributes=draw(_text("attributes")),
            usage=usage,
            cost=draw(_text("cost")),
            input_tokens=draw(st.integers(0, 3)),
            output_tokens=draw(st.integers(0, 3)),
            cache_creation_input_tokens=draw(st.integers(0, 3)),
            cache_read_input_tokens=draw(st.integers(0, 3)),
        )
        out.append((str(uuid.uuid4()), _time(offset), piece))
    order = draw(st.permutations(range(count)))
    repeats = draw(st.lists(st.integers(0, count - 1), max_size=2))  # the same event sent again
    return out, [*order, *repeats]


def _python_merge(
    execution_id: str, generated: list[tuple[str, datetime, SpanPiece]], arrival: list[int]
) -> SpanRecord:
    """What a live stream shows after every piece arrived: the first piece creates the state."""
    seen: set[str] = set()
    state: SpanState | None = None
    for index in arrival:
        event_id, ts, piece = generated[index]
        if event_id in seen:  # the live stream drops an event it already delivered
            continue
        seen.add(event_id)
        state = state or SpanState.new(execution_id, "s", ts)
        state.apply(piece, ts)
    assert state is not None
    return state.record


def _shown(record: SpanRecord) -> dict[str, object]:
    """The span as the API shows it (the merge basis is how the live merge continues, not part of it)."""
    return {k: v for k, v in dataclasses.asdict(record).items() if k != "basis"}


async def _write(state: AppState, tenant_id: str, execution_id: str,
                 generated: list[tuple[str, datetime, SpanPiece]], arrival: list[int]) -> None:  # fmt: skip
    # one insert per arrival: every piece its own part, so duplicates are merged only by the read (FINAL)
    for index in arrival:
        event_id, ts, piece = generated[index]
        event = CanonicalEvent(id=event_id, name="span.piece", timestamp=ts, source="graphql",
                               execution_id=execution_id, span_id="s", span=dataclasses.replace(piece))  # fmt: skip
        await state.writer.write(tenant_id, Batch(events=[event]))


def _case(*specs: tuple[int, SpanPiece], arrival: list[int]) -> tuple[list[tuple[str, datetime, SpanPiece]], list[int]]:
    return [(str(uuid.uuid4()), _time(offset), piece) for offset, piece in specs], arrival  # type: ignore[misc]


# Found by this test: a RUNNING piece's end arriving before the terminal piece was dropped by the Python merge.
END_BEFORE_TERMINAL = _case(
    (0, SpanPiece(status="RUNNING", start_time=_time(0), end_time=_time(900))),
    (10, SpanPiece(status="SUCCEEDED")),
    arrival=[0, 1],
)

# A running piece's end is not shown until a terminal piece comes.
END_WHILE_RUNNING = _case((0, SpanPiece(status="RUNNING", end_time=_time(5))), arrival=[0])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=pieces())
@example(case=END_BEFORE_TERMINAL)
@example(case=END_WHILE_RUNNING)
async def test_sql_and_python_merge_agree(
    tenant: Tenant, state: AppState, case: tuple[list[tuple[str, datetime, SpanPiece]], list[int]]
) -> None:
    generated, arrival = case
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    execution_id = f"e-{uuid.uuid4().hex}"
    await _write(state, tenant_id, execution_id, generated, arrival)
    stored, event_ids = await trace_with_event_ids(state.ch, tenant_id, execution_id)
    live = _python_merge(execution_id, generated, arrival)
    assert len(stored) == 1
    assert event_ids == {f"graphql\x00{event_id}" for event_id, _, _ in generated}  # source NUL id
    assert _shown(stored[0]) == _shown(live)
    # the read of pages and traces takes a span of one piece as it is, without the merge: the same span
    listed = await spans_of_executions(state.ch, tenant_id, [execution_id])
    assert listed == [dataclasses.replace(stored[0], basis=None)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=pieces(), split=st.integers(1, 6))
async def test_stored_span_then_live_pieces_agree_with_sql(
    tenant: Tenant, state: AppState, case: tuple[list[tuple[str, datetime, SpanPiece]], list[int]], split: int
) -> None:
    """A subscriber starts from the stored span and applies what arrives later, as resolvers/live.py does."""
    generated, arrival = case
    split = min(split, len(arrival))
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    execution_id = f"e-{uuid.uuid4().hex}"
    await _write(state, tenant_id, execution_id, generated, arrival[:split])
    (base,), reflected = await trace_with_event_ids(state.ch, tenant_id, execution_id)
    live = SpanState(base)
    await _write(state, tenant_id, execution_id, generated, arrival[split:])
    for index in arrival[split:]:
        event_id, ts, piece = generated[index]
        if f"graphql\x00{event_id}" not in reflected:
            reflected.add(f"graphql\x00{event_id}")
            live.apply(piece, ts)
    (stored,), _ = await trace_with_event_ids(state.ch, tenant_id, execution_id)
    assert _shown(stored) == _shown(live.record)


async def test_a_live_stream_continues_a_stored_span_field_by_field(tenant: Tenant, state: AppState) -> None:
    """Pieces older than the stored span's latest piece still win the fields they are the latest to say."""
    fields = ("parent_span_id", "name", "kind", "inputs", "outputs", "error", "attributes", "usage", "cost")
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    execution_id = f"e-{uuid.uuid4().hex}"
    stored = [
        (str(uuid.uuid4()), _time(1000), SpanPiece(**{f: _value(f, "early") for f in fields}, status="FAILED",
                                                    input_tokens=1, end_time=_time(9000))),
        (str(uuid.uuid4()), _time(3000), SpanPiece(status="RUNNING")),  # the latest piece, saying little
    ]  # fmt: skip
    later = [
        (str(uuid.uuid4()), _time(2000), SpanPiece(**{f: _value(f, "mid") for f in fields}, status="SUCCEEDED",
                                                    input_tokens=2)),
        (str(uuid.uuid4()), _time(500), SpanPiece(**{f: _value(f, "old") for f in fields}, status="CANCELLED",
                                                   input_tokens=3)),
        (str(uuid.uuid4()), _time(200), SpanPiece()),  # earlier than any: the start (no piece gave one)
    ]  # fmt: skip
    await _write(state, tenant_id, execution_id, stored, [0, 1])
    (base,), _ = await trace_with_event_ids(state.ch, tenant_id, execution_id)
    live = SpanState(base)
    for event_id, ts, piece in later:
        live.apply(piece, ts)
        await _write(state, tenant_id, execution_id, [(event_id, ts, piece)], [0])
        (read,), _ = await trace_with_event_ids(state.ch, tenant_id, execution_id)
        assert _shown(live.record) == _shown(read)
    r = live.record
    assert (r.parent_id, r.name, r.kind, r.inputs, r.outputs, r.error, r.attributes, r.usage, r.cost) == tuple(
        _value(f, "mid") for f in fields)  # fmt: skip
    assert (r.status, r.input_tokens, r.start_time, r.end_time) == ("SUCCEEDED", 2, _time(200), _time(9000))
    # a piece that gives a start sets it, later than the pieces' times though it is
    given = (str(uuid.uuid4()), _time(4000), SpanPiece(start_time=_time(2500)))
    live.apply(given[2], given[1])
    await _write(state, tenant_id, execution_id, [given], [0])
    (read,), _ = await trace_with_event_ids(state.ch, tenant_id, execution_id)
    assert _shown(live.record) == _shown(read) and read.start_time == _time(2500)


async def test_a_start_given_by_one_stored_piece_is_not_moved_by_an_earlier_live_piece(
    tenant: Tenant, state: AppState
) -> None:
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    execution_id = f"e-{uuid.uuid4().hex}"
    stored = [(str(uuid.uuid4()), _time(1000), SpanPiece(start_time=_time(1000)))]
    await _write(state, tenant_id, execution_id, stored, [0])
    (base,), _ = await trace_with_event_ids(state.ch, tenant_id, execution_id)
    live = SpanState(base)
    earlier = (str(uuid.uuid4()), _time(400), SpanPiece(name="n"))
    live.apply(earlier[2], earlier[1])
    await _write(state, tenant_id, execution_id, [earlier], [0])
    (read,), _ = await trace_with_event_ids(state.ch, tenant_id, execution_id)
    assert _shown(live.record) == _shown(read) and read.start_time == _time(1000)
