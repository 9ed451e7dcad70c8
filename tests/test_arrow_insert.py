"""The group commit's insert path (columns as one Arrow stream through chDB's streaming insert,
storage/clickhouse/arrow_insert.py and chdb_inserts.py) stores what clickhouse-connect's row insert
stores, value for value, for every column type the events table has and the ones beside them; and a batch with
one value its column cannot hold stores nothing at all, in `events` and in the `spans` its view fills."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from ingest.records import EVENT_COLUMNS, CanonicalEvent, SpanPiece, event_columns
from server.state import AppState
from storage.clickhouse.arrow_insert import arrow_stream, arrow_type
from storage.clickhouse.events import insert_events
from tests.old_stores import run_child

TYPES = {
    "s": "String",
    "lc": "LowCardinality(String)",
    "ns": "Nullable(String)",
    "at": "DateTime64(6, 'UTC')",
    "nat": "Nullable(DateTime64(6, 'UTC'))",
    "u8": "UInt8",
    "u64": "UInt64",
    "i64": "Int64",
    "f64": "Float64",
    "b": "Bool",
}
BIG = "long text " * 200_000  # 2 MB
ROWS: list[tuple[Any, ...]] = [
    ("plain", "a", "x", datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC), None, 0, 0, 0, 0.0, False),
    ("", "", None, datetime(1960, 5, 1, 12, 0, 0, 123456, tzinfo=UTC),
     datetime(2300, 1, 2, 3, 4, 5, 999999, tzinfo=UTC), 255, 2**64 - 1, -(2**63), -1.5e300, True),
    ("ünïcødé 漢字 🚀 \u200b", "é", "🚀", datetime(2024, 1, 2, 5, 4, 5, 7, tzinfo=timezone(timedelta(hours=2))),
     datetime(1970, 1, 1, tzinfo=UTC), 1, 1, 1, 1 / 3, True),
    (BIG, "b", BIG, datetime(2299, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), None, 7, 2**53 + 1, 2**63 - 1,
     float("inf"), False),
    ('{"json": "text\\n with \\"quotes\\""}', "tab\there", "line\nbreak", datetime(2024, 2, 29, tzinfo=UTC),
     datetime(2024, 2, 29, 0, 0, 0, 1, tzinfo=UTC), 2, 3, 4, 5e-324, False),
]  # fmt: skip


@pytest.fixture
async def twin_tables(state: AppState) -> AsyncIterator[tuple[str, str]]:
    """Two tables of every type in TYPES: one written through the Arrow path, one through clickhouse-connect's rows."""
    names = (f"arrow_{uuid.uuid4().hex}", f"native_{uuid.uuid4().hex}")
    columns = ", ".join(f"{name} {kind}" for name, kind in TYPES.items())
    for table in names:
        await state.ch.command(f"CREATE TABLE {table} (k UInt32, {columns}) ENGINE = MergeTree ORDER BY k")
    try:
        yield names
    finally:
        for table in names:
            await state.ch.command(f"DROP TABLE IF EXISTS {table}")


async def _read(state: AppState, table: str) -> list[tuple[Any, ...]]:
    return (await state.ch.query(f"SELECT * FROM {table} ORDER BY k")).rows


async def test_every_column_type_round_trips_as_the_row_insert_stores_it(
    state: AppState, twin_tables: tuple[str, str]
) -> None:
    arrow_table, native_table = twin_tables
    rows = [(k, *row) for k, row in enumerate(ROWS)]
    names = ["k", *TYPES]
    await state.ch.insert_columns(arrow_table, [list(c) for c in zip(*rows, strict=True)], names)
    await state.ch.insert(native_table, rows, names)
    stored = await _read(state, arrow_table)
    assert stored == await _read(state, native_table)
    for got, sent in zip(stored, rows, strict=True):  # and what both stored is what was sent
        assert got[:4] == sent[:4] and got[6:] == sent[6:]
        assert got[4] == sent[4]  # an aware datetime in another zone: the same instant, to the microsecond
        assert got[5] == sent[5]
    assert stored[3][1] == BIG and stored[2][4].utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("u64", 2**64),  # past UInt64
        ("u64", -1),
        ("u8", 256),
        ("s", None),  # None in a column that is not Nullable
        ("at", None),
        ("s", 5),  # not a string
        ("s", "lone \ud800 surrogate"),  # not encodable as UTF-8
        ("at", "2024-01-01"),  # text where a datetime belongs
    ],
)
async def test_a_value_its_column_cannot_hold_stores_nothing(
    state: AppState, twin_tables: tuple[str, str], column: str, value: Any
) -> None:
    table = twin_tables[0]
    names = ["k", *TYPES]
    rows = [list((k, *row)) for k, row in enumerate(ROWS)]
    rows[2][names.index(column)] = value  # one bad value in the middle of good rows
    with pytest.raises(Exception):  # noqa: B017 - pyarrow's or ClickHouse's own error, whichever refuses first
        await state.ch.insert_columns(table, [list(c) for c in zip(*rows, strict=True)], names)
    assert await _read(state, table) == []


def test_types_without_a_mapping_are_refused() -> None:
    for kind in ("Array(String)", "Map(String, UInt64)", "DateTime64(9, 'UTC')", "Decimal(10, 2)", "UUID"):
        with pytest.raises(ValueError, match="no Arrow mapping"):
            arrow_type(kind)
    assert str(arrow_type("LowCardinality(Nullable(String))")) == "large_string"


def test_a_column_of_empty_strings_is_shortcut_only_when_every_value_is_one() -> None:
    """A String column of '' only is built from its buffers at once; one of other empty values (0, False) is
    refused as any non-string is, not stored as ''."""
    arrow_stream(["s"], ["String"], [["", "", ""]])
    with pytest.raises(TypeError):
        arrow_stream(["s"], ["String"], [[0, False, ""]])


def _event(n: int, tenant_tag: str, span: bool) -> CanonicalEvent:
    t = datetime(2024, 3, 1, 0, 0, n, n, tzinfo=UTC)
    piece = SpanPiece(
        parent_span_id="root", name=f"node {n} ✓", kind="NODE", status="SUCCEEDED", start_time=t, end_time=t,
        inputs='{"q": "ünï"}', outputs='"out"', error="", attributes='{"a": 1}', usage='{"t": 3}', cost="",
        input_tokens=n, output_tokens=2**64 - 1, cache_creation_input_tokens=0, cache_read_input_tokens=1,
    )  # fmt: skip
    return CanonicalEvent(
        id=f"{tenant_tag}-e{n}", name="node.execution.fulfilled", timestamp=t, source="vellum", execution_id="ex",
        span_id=f"s{n}", actor_type="agent" if not span else "", actor_id="a1" if not span else "",
        payload=f'{{"n": {n}}}', span=piece if span else None,
    )  # fmt: skip


def _by_name(tenant: str, event: CanonicalEvent, column: str) -> object:
    """What the column named `column` must hold for `event`, read by name: span_X and the piece's own fields from
    its span piece (SpanPiece's defaults without one), the rest from the event."""
    piece = event.span or SpanPiece()
    if column == "tenant_id":
        return tenant
    if column == "is_span":
        return int(event.span is not None)
    if column.startswith("span_") and column != "span_id":
        return getattr(piece, column.removeprefix("span_"))
    return getattr(event if column in CanonicalEvent.__dataclass_fields__ else piece, column)


def test_event_columns_hold_each_events_fields_under_their_names() -> None:
    batches = [("t1", [_event(1, "a", True), _event(2, "a", False)]), ("t2", [_event(3, "b", True)]), ("t3", [])]
    columns = event_columns(batches)
    assert len(columns) == len(EVENT_COLUMNS)
    for name, column in zip(EVENT_COLUMNS, columns, strict=True):
        assert column == [_by_name(t, e, name) for t, events in batches for e in events], name
    assert columns[0] == ["t1", "t1", "t2"]  # each event keeps its own tenant


async def test_a_batch_the_store_refuses_leaves_nothing_in_events_or_spans(state: AppState) -> None:
    tenant = f"arrow-{uuid.uuid4().hex}"
    good = [_event(n, tenant, span=True) for n in range(1, 4)]
    bad = _event(9, tenant, span=True)
    assert bad.span is not None
    bad.span.input_tokens = 2**64  # past UInt64: validation would have refused it, the store does too
    with pytest.raises(Exception):  # noqa: B017
        await insert_events(state.ch, event_columns([(tenant, [*good, bad])]), EVENT_COLUMNS)
    counts = (
        "SELECT (SELECT count() FROM events WHERE tenant_id = {t:String}), "
        "(SELECT count() FROM spans WHERE tenant_id = {t:String})"
    )
    assert (await state.ch.query(counts, {"t": tenant})).rows == [(0, 0)]
    await insert_events(state.ch, event_columns([(tenant, good)]), EVENT_COLUMNS)
    assert (await state.ch.query(counts, {"t": tenant})).rows == [(3, 3)]
    stored = await state.ch.query(
        "SELECT span_name, inputs, output_tokens, start_time FROM spans WHERE tenant_id = {t:String} ORDER BY span_id",
        {"t": tenant},
    )
    assert stored.rows == [
        (e.span.name, e.span.inputs, e.span.output_tokens, e.span.start_time) for e in good if e.span is not None
    ]


SPELLINGS = r"""
import asyncio, json, sys
from storage.clickhouse.client import ChdbClickHouse


async def main(dsn: str) -> None:
    ch = ChdbClickHouse(dsn, pool_size=2)
    await ch.command("CREATE TABLE IF NOT EXISTS t (k UInt32, s String) ENGINE = MergeTree ORDER BY k")
    await ch.insert_columns("t", [[1, 2], ["a", "b"]], ["k", "s"])
    print(json.dumps((await ch.query("SELECT k, s FROM t ORDER BY k")).rows))
    await ch.close()


asyncio.run(main(sys.argv[1]))
"""


@pytest.mark.parametrize("spelling", ["link", "real/", "real/../real"])
def test_a_store_spelled_another_way_still_takes_inserts(tmp_path: Path, spelling: str) -> None:
    """chDB compares engine paths literally: the insert connections open with the connection string
    clickhouse-connect opened the engine with (its path made real), so a data dir named through a symlink, with a
    trailing slash or a `..` still takes column inserts. chDB allows one engine path per process: a child each."""
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert run_child(SPELLINGS, f"chdb://{tmp_path}/{spelling}") == [[1, "a"], [2, "b"]]
