"""Reading spans: each span is the merge of its pieces (one per event), computed in one GROUP BY.

Merge rules: a terminal status (SUCCEEDED, FAILED, CANCELLED) from the latest terminal piece wins, else
RUNNING; start is the earliest start (or the earliest piece); end the latest end; every other field is
the latest piece that says something about it. So pieces may arrive in any order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

from storage.clickhouse.client import BLOCK_ROWS, PURGE_AFTER_ROWS, ClickHouse, EndOfRead
from storage.clickhouse.values import duration_ms, utc

_TERMINAL = "('SUCCEEDED', 'FAILED', 'CANCELLED')"
_TERMINAL_STATUSES = frozenset(("SUCCEEDED", "FAILED", "CANCELLED"))
# ClickHouse formats the times the API shows: formatting 20,000 of them in Python costs ~60 ms a trace.
_ISO = "'%Y-%m-%dT%H:%i:%S.%fZ'"

# Attributes merge by key across pieces, the later piece's value winning: a `fulfilled` event keeps the
# `parent` its `initiated` event carried. Only spans with two or more object pieces pay for the merge.
_BY_RECENCY = "arrayReverseSort(p -> p.1, arrayFlatten(groupArrayIf(arrayMap(kv -> (ts, kv.1, kv.2), " \
    "JSONExtractKeysAndValuesRaw(attributes)), attributes LIKE '{%')))"
_MERGED_ATTRIBUTES = (
    "concat('{', arrayStringConcat(arrayMap(p -> concat(toJSONString(p.2), ':', p.3), "
    "arrayFilter((p, i) -> indexOf(arrayMap(q -> q.2, attribute_pieces), p.2) = i, "
    f"({_BY_RECENCY} AS attribute_pieces), arrayEnumerate(attribute_pieces))), ','), '}}')"
)

# The skeleton of a merged span (ids, parent, name, kind, status, start, end): what every reader needs.
MERGED_SKELETON = f"""
    execution_id,
    span_id,
    argMaxIf(parent_span_id, ts, parent_span_id != '') AS parent_id,
    argMaxIf(span_name, ts, span_name != '') AS name,
    argMaxIf(span_kind, ts, span_kind != '') AS kind,
    if(countIf(span_status IN {_TERMINAL}) > 0,
       argMaxIf(span_status, ts, span_status IN {_TERMINAL}), 'RUNNING') AS status,
    ifNull(min(start_time), min(ts)) AS start,
    if(countIf(span_status IN {_TERMINAL}) > 0, max(end_time), NULL) AS end"""

# The merged columns beyond the skeleton, in SpanRecord's order, by the GraphQL field that needs them: a read
# computes only the ones its selection asks for and gives the others as constants, so ClickHouse reads none
# of their (large) columns.
_TOKENS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
_DETAILS: tuple[tuple[str, str, str, str, str], ...] = (
    # (field, column name, merged over pieces, the same for a span of one piece, absent)
    ("inputs", "m_inputs", "argMaxIf(inputs, ts, inputs != '')", "inputs", "''"),
    ("outputs", "m_outputs", "argMaxIf(outputs, ts, outputs != '')", "outputs", "''"),
    ("error", "m_error", "argMaxIf(error, ts, error != '')", "error", "''"),
    ("attributes", "m_attributes",
     f"if(countIf(attributes LIKE '{{%') < 2, argMaxIf(attributes, ts, attributes != ''), {_MERGED_ATTRIBUTES})",
     "attributes", "''"),
    ("usage", "m_usage", "argMaxIf(usage, ts, usage != '')", "usage", "''"),
    ("cost", "m_cost", "argMaxIf(cost, ts, cost != '')", "cost", "''"),
    *(("usage", f"m_{c}", f"argMaxIf({c}, ts, usage != '')", f"if(usage != '', {c}, 0)", "toUInt64(0)")
      for c in _TOKENS),
)  # fmt: skip
ALL_DETAILS = frozenset(d[0] for d in _DETAILS)
_NO_DETAILS = ("", "", "", "", "", "", 0, 0, 0, 0)  # the absent values of _DETAILS, in its order

# A span of one piece is that piece: the same values as the merge, without aggregating (big traces are mostly
# complete spans written once, and aggregating their large texts was most of a read's time).
_ONE_PIECE_SKELETON = f"""
    execution_id,
    span_id,
    parent_span_id AS parent_id,
    toString(span_name) AS name,
    toString(span_kind) AS kind,
    toString(if(span_status IN {_TERMINAL}, span_status, 'RUNNING')) AS status,
    ifNull(start_time, ts) AS start,
    if(span_status IN {_TERMINAL}, end_time, NULL) AS end"""
_TAIL = {
    True: f"count() AS pieces, max(ts) AS last_ts, formatDateTime(start, {_ISO}, 'UTC') AS start_iso, "
    f"formatDateTime(end, {_ISO}, 'UTC') AS end_iso",
    False: f"toUInt64(1) AS pieces, ts AS last_ts, formatDateTime(start, {_ISO}, 'UTC') AS start_iso, "
    f"formatDateTime(end, {_ISO}, 'UTC') AS end_iso",
}


def _details(details: frozenset[str], merged: bool) -> str:
    """The detail columns in SpanRecord's order: computed for the fields in `details`, constants otherwise."""
    return ",\n    ".join(
        f"{(merge if merged else one) if field in details else absent} AS {name}"
        for field, name, merge, one, absent in _DETAILS
    )


# The pieces read (piece_read_sql) gives a piece's stored status, end and token counts as they are, and
# SpanRecord.of_piece_columns makes them what _ONE_PIECE_SKELETON and _details give (RUNNING, no end, no tokens
# without usage): the `if`s, `IN`s and casts cost ClickHouse ~1.5 ms of a 1,000-span read (8.9 -> 7.5 ms), the
# same in Python a block at a time ~0.1 ms.
_PIECE_SKELETON = """
    execution_id,
    span_id,
    parent_span_id AS parent_id,
    span_name AS name,
    span_kind AS kind,
    span_status AS status,
    ifNull(start_time, ts) AS start,
    end_time AS end"""


def _piece_details(details: frozenset[str]) -> str:
    """The detail columns of a piece as stored (m_x is column x), constants for the fields not in `details`."""
    return ",\n    ".join(
        f"{name[2:] if field in details else absent} AS {name}" for field, name, _, _, absent in _DETAILS
    )


def merged_columns(details: frozenset[str] = ALL_DETAILS) -> str:
    """The SpanRecord columns of spans merged by GROUP BY execution_id, span_id."""
    return f"{MERGED_SKELETON},\n    {_details(details, True)},\n    {_TAIL[True]}"


def one_piece_columns(details: frozenset[str] = ALL_DETAILS) -> str:
    """The SpanRecord columns of spans of one piece, read without aggregating."""
    return f"{_ONE_PIECE_SKELETON},\n    {_details(details, False)},\n    {_TAIL[False]}"


MERGED_COLUMNS = merged_columns()
# A read without details leaves the detail columns out, where merged_columns gives them as constants: ten
# constant columns of every row cost ClickHouse and the driver ~5 ms of a 10,000-span skeleton.
# SpanRecord.of_skeleton_columns puts the same constants in.
_SKELETON_COLUMNS = f"{MERGED_SKELETON},\n    {_TAIL[True]}"

# What a stored span's merge rests on, for a live stream that merges later pieces into it: whether a piece
# gave a start, the latest end the pieces gave whatever their status, and when each field was last said
# (NULL: never).
_BASIS = f"""
    tuple(count(start_time) > 0, max(end_time),
          maxIfOrNull(ts, parent_span_id != ''), maxIfOrNull(ts, span_name != ''), maxIfOrNull(ts, span_kind != ''),
          maxIfOrNull(ts, inputs != ''), maxIfOrNull(ts, outputs != ''), maxIfOrNull(ts, error != ''),
          maxIfOrNull(ts, attributes != ''), maxIfOrNull(ts, usage != ''), maxIfOrNull(ts, cost != ''),
          maxIfOrNull(ts, span_status IN {_TERMINAL}), maxIfOrNull(ts, usage != ''))
"""
# the SpanRecord fields _BASIS gives the times of, in its order ("usage_tokens": the four token counts)
BASIS_FIELDS = ("parent_id", "name", "kind", "inputs", "outputs", "error", "attributes", "usage", "cost", "status",
                "usage_tokens")  # fmt: skip


@dataclass(slots=True)
class MergeBasis:
    start_given: bool  # a piece gave a start (else the start is the earliest piece's time, until one does)
    given_end: datetime | None  # the latest end a piece gave, terminal or not
    said_at: dict[str, datetime | None]  # BASIS_FIELDS -> the time of the latest piece that said it


@dataclass(slots=True)
class SpanRecord:
    execution_id: str
    id: str
    parent_id: str
    name: str
    kind: str
    status: str
    start_time: datetime
    end_time: datetime | None
    inputs: str
    outputs: str
    error: str
    attributes: str
    usage: str
    cost: str
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    pieces: int
    last_ts: datetime  # the latest piece's time: later pieces override what this one said
    start_iso: str
    end_iso: str | None
    basis: MergeBasis | None = None  # read only where later pieces will be merged in (trace_with_event_ids)

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> SpanRecord:
        record = cls(*row[:22])
        record.last_ts = utc(record.last_ts)
        record.start_time = utc(record.start_time)
        record.end_time = utc(record.end_time) if record.end_time is not None else None
        return record

    @classmethod
    def from_columns(cls, columns: Sequence[Sequence[Any]]) -> list[SpanRecord]:
        """The records of a block of rows as from_row reads them, given column by column: made without a tuple
        a row, and with the skeleton's repeated values held once (_lean_skeleton)."""
        *skeleton, last_ts = _lean_skeleton(columns[:8], columns[19])
        return list(map(cls, *skeleton, *columns[8:19], last_ts, *columns[20:22]))

    @classmethod
    def of_skeleton_columns(cls, columns: Sequence[Sequence[Any]]) -> list[SpanRecord]:
        """from_columns of a block of _SKELETON_COLUMNS rows (or of piece_read_sql's skeleton, through
        of_piece_columns), the detail fields empty, as merged_columns(frozenset()) gives them."""
        *skeleton, last_ts = _lean_skeleton(columns[:8], columns[9])
        return list(map(cls, *skeleton, *map(repeat, _NO_DETAILS), columns[8], last_ts, *columns[10:12]))

    @classmethod
    def of_piece_columns(cls, columns: Sequence[Sequence[Any]], details: frozenset[str]) -> list[SpanRecord]:
        """from_columns (of_skeleton_columns without details) of a block of piece_read_sql rows: each piece a
        span of one piece, its stored status, end and tokens made what one_piece_columns gives."""
        columns = list(columns)
        status = columns[5]
        if not _TERMINAL_STATUSES.issuperset(status):  # a span still running: no end yet (C's loop, not a generator's)
            terminal = [s in _TERMINAL_STATUSES for s in status]
            columns[5] = [s if t else "RUNNING" for s, t in zip(status, terminal, strict=True)]
            end_iso = 21 if details else 11
            for i in (7, end_iso):
                columns[i] = [v if t else None for v, t in zip(columns[i], terminal, strict=True)]
        if "usage" in details and not all(columns[12]):  # token counts only with the usage that gives them
            given = [u != "" for u in columns[12]]
            for i in range(14, 18):
                columns[i] = [c if g else 0 for c, g in zip(columns[i], given, strict=True)]
        return cls.from_columns(columns) if details else cls.of_skeleton_columns(columns)

    @classmethod
    def with_basis(cls, row: tuple[Any, ...]) -> SpanRecord:
        record = cls.from_row(row)
        start_given, end, *times = row[22]
        said_at = {field: utc(t) if t is not None else None for field, t in zip(BASIS_FIELDS, times, strict=True)}
        record.basis = MergeBasis(bool(start_given), utc(end) if end is not None else None, said_at)
        return record

    @property
    def duration_ms(self) -> float | None:
        return duration_ms(self.start_time, self.end_time)


def _utc_column(values: Sequence[datetime | None]) -> Sequence[datetime | None]:
    """A column of times, in UTC where chDB gave them without a zone (values.utc): checked once a column, whose
    values are all of one type."""
    given = next((v for v in values if v is not None), None)
    if given is None or given.tzinfo is not None:
        return values
    return [v if v is None else v.replace(tzinfo=UTC) for v in values]


def _held_once(values: Sequence[str]) -> list[str]:
    """A column of texts with each distinct text one object (the driver makes one a row)."""
    held: dict[str, str] = {}
    return [held.setdefault(v, v) for v in values]


def _lean_skeleton(skeleton: Sequence[Sequence[Any]], last_ts: Sequence[datetime]) -> list[Sequence[Any]]:
    """A block's skeleton columns (execution id … end) and last_ts, with what spans repeat held once: a big page
    is held in full while its response is built (~1.6 KiB a span of ~1 KiB of response), and a trace's spans
    share their execution id, statuses, mostly names and parents; a span of one piece was last said at its
    start. ~12 MiB less for 50,000 spans, for ~10 ms."""
    execution_id, span_id, parent_id, name, kind, status, start, end = skeleton
    start, end, last = _utc_column(start), _utc_column(end), _utc_column(last_ts)
    last = [s if t == s else t for s, t in zip(start, last, strict=True)]
    return [_held_once(execution_id), span_id, _held_once(parent_id), _held_once(name), kind, _held_once(status),
            start, end, last]  # fmt: skip


@dataclass(frozen=True, slots=True)
class SpanWindow:
    """Which spans of each execution a read returns: in start order (ties broken by span id), or that order
    reversed, the first `limit` strictly past the keyset `after` = (start, span id); every span when None."""

    limit: int | None = None
    after: tuple[datetime, str] | None = None
    descending: bool = False


def _page_parts(window: SpanWindow) -> tuple[str, str, str, str]:
    """WHERE, HAVING, ORDER BY and LIMIT BY of `window`'s spans of each execution (keyset in HAVING)."""
    where = "tenant_id = {tenant:String} AND execution_id IN {ids:Array(String)}"
    desc = " DESC" if window.descending else ""
    having = ""
    if window.after is not None:
        having = f" HAVING (start, span_id) {'<' if window.descending else '>'} " \
            "({after_start:DateTime64(6, 'UTC')}, {after_id:String})"  # fmt: skip
    limit = " LIMIT {limit:UInt64} BY execution_id" if window.limit is not None else ""
    order = f" ORDER BY execution_id, start{desc}, span_id{desc}"
    return where, having, order, limit


def _page(window: SpanWindow) -> str:
    """Which spans the window holds, with their piece counts: one GROUP BY over the key columns and times."""
    where, having, order, limit = _page_parts(window)
    return (
        "SELECT execution_id, span_id, count() AS n, ifNull(min(start_time), min(ts)) AS start "
        f"FROM spans FINAL WHERE {where} GROUP BY execution_id, span_id{having}{order}{limit}"
    )


def read_sql(window: SpanWindow, details: frozenset[str]) -> str:
    """The read of `window`'s spans with the `details` columns.

    A skeleton (no details) is one GROUP BY over the key columns and times of the trace's pieces, with the
    keyset in HAVING and LIMIT … BY. With details, first the page: which spans it holds, chosen the same way;
    then those spans' columns: a span of one piece read as it is, a span of several merged by GROUP BY. Only
    the page's spans are merged, converted and returned, and only the columns `details` asks for are read.
    """
    where, having, order, limit = _page_parts(window)
    if not details:
        return f"SELECT {_SKELETON_COLUMNS} FROM spans FINAL WHERE {where} GROUP BY execution_id, span_id" \
            f"{having}{order}{limit}"  # fmt: skip
    return (
        f"WITH page AS ({_page(window)}) SELECT * FROM ("
        f"SELECT {one_piece_columns(details)} FROM spans FINAL WHERE {where} "
        "AND (execution_id, span_id) IN (SELECT execution_id, span_id FROM page WHERE n = 1) "
        f"UNION ALL SELECT {merged_columns(details)} FROM spans FINAL WHERE {where} "
        "AND (execution_id, span_id) IN (SELECT execution_id, span_id FROM page WHERE n > 1) "
        f"GROUP BY execution_id, span_id){order}"
    )


def _counts_pieces_read(window: SpanWindow) -> bool:
    """Whether piece_read_sql gives `pieces_read`: a page of PURGE_AFTER_ROWS or more returns that many rows
    whenever its trace has that many pieces, so only a smaller first page needs it."""
    return window.limit is not None and window.limit < PURGE_AFTER_ROWS


def piece_read_sql(window: SpanWindow, details: frozenset[str]) -> str:
    """The pieces of `window`'s spans (a window without a keyset: a whole trace, or its first page), each
    read as it is (without merging), with how many pieces its span has (`span_pieces`, last): when every
    row's span is of one piece, the rows are the page, exactly as read_sql gives it. Big traces are mostly
    spans written once: this is one scan with no GROUP BY, CTE, union or IN subquery, which ClickHouse plans
    in ~5 ms whatever the trace's size (the page CTE's IN set is built while planning: 9 ms for 1,000
    spans, 20-30 ms for 50,000), and a skeleton reads only its columns. A page past a keyset is read by
    one_piece_read_sql instead, which reads the texts of the page's rows only.

    Why the rows are then the page: every span has a piece whose (start, span id) is the span's own (the one
    that gave the earliest start, else the earliest piece). A span of the page missing from the rows would
    have that piece sorted after `limit` rows, all of spans of one piece, so sorted after `limit` spans:
    not in the page.

    Each piece is given as stored (_PIECE_SKELETON): SpanRecord.of_piece_columns makes it a span of one piece.
    Without FINAL, as one_piece_read_sql (which says why that is safe): a piece stored twice and not yet merged
    counts twice in its span's span_pieces, so read_sql answers.
    A first page smaller than PURGE_AFTER_ROWS also gives how many pieces ClickHouse read and sorted for it
    (`pieces_read`, before span_pieces): its rows returned say nothing of that (100 spans of a 50,000-span
    trace), and a big read has chDB's freed memory handed back (ClickHouse.rows_read); ~0.2 ms of a 1,000-span
    page, ~4 ms of a 50,000-span trace's first 5,000. A bigger page, or a whole trace, returns every piece
    it reads up to that many, so it does without."""
    assert window.after is None, "a page past a keyset is read by one_piece_read_sql"
    where, _, order, limit = _page_parts(window)
    columns = f"{_PIECE_SKELETON},\n    {_piece_details(details)}" if details else _PIECE_SKELETON
    columns += f",\n    {_TAIL[False]}"
    read = ",\n    count() OVER () AS pieces_read" if _counts_pieces_read(window) else ""
    return (
        f"SELECT {columns}{read},\n    count() OVER (PARTITION BY execution_id, span_id) AS span_pieces "
        f"FROM spans WHERE {where}{order}{limit}"
    )


# The pieces read's own settings. ClickHouse's query plan optimizations cost ~0.8 ms of the ~5 ms chDB spends
# planning it (a 1,000-span page reads in ~8 ms) and change nothing in its plan: one table's scan, whose primary
# key range ReadFromMergeTree still chooses itself (tests/test_span_reads.py pins it), a window, a sort.
PIECE_READ_SETTINGS = {"query_plan_enable_optimizations": 0}


# Which spans have two pieces or more: a span's pieces are adjacent in the sorting key (tenant, execution, span,
# event), so this reads the key columns in that order and keeps each span's second piece, without aggregating
# (~6 ms of a 50,000-span trace's page; a GROUP BY … HAVING count() > 1 ~12 ms more). Without FINAL, as the
# page's own scan (one_piece_read_sql): a piece stored twice and not yet merged is two rows of its span here.
# Of one execution, the span ids alone: a set of strings, not of pairs.
_SEVERAL_PIECES = "(execution_id, span_id) IN (SELECT execution_id, span_id FROM spans WHERE {where} " \
    "ORDER BY execution_id, span_id LIMIT 1 OFFSET 1 BY execution_id, span_id)"  # fmt: skip
_SEVERAL_PIECES_OF_ONE = "span_id IN (SELECT span_id FROM spans WHERE {where} " \
    "ORDER BY span_id LIMIT 1 OFFSET 1 BY span_id)"  # fmt: skip


def one_piece_read_sql(window: SpanWindow, details: frozenset[str], executions: int) -> str:
    """The pieces of `window`'s spans (a page past a keyset, or a big first page), each read as it is, with whether
    its span has another piece (`several`, last): when no row's does, the rows are the page, exactly as read_sql
    gives it. No GROUP BY: the keyset is in WHERE, on each piece's own (start, span id).

    Of one execution (`executions`: how many the read asks for), one scan whose LIMIT lets ClickHouse sort only
    the key columns of the trace's pieces and read the others (the texts) for the page's rows alone, after the
    LIMIT (lazy materialization, up to _LAZY_ROWS rows: the page then comes as one block); _SEVERAL_PIECES
    tells the spans of several pieces. A 5,000-span page of a 50,000-span trace: ~27 ms of ClickHouse, where
    choosing the page by a GROUP BY of every piece (keyset in HAVING) and reading it through an IN set took
    ~45 ms. LIMIT … BY, which several executions need, is never lazily materialized: their pages' spans are
    chosen from the key columns first, then every piece of those spans is read through the sorting key (a
    span of several pieces: several rows, which a window over them counts).

    Why the rows are then the page: every span has a piece whose (start, span id) is the span's own (the one
    that gave the earliest start, else the earliest piece), so past the keyset when the span is. A span of the
    page missing from the rows would have that piece sorted after `limit` pieces, all of spans of one piece, so
    after `limit` spans past the keyset: not in the page. A row's span, of one piece, is past the keyset, and
    every span sorted between the keyset and it has its own piece among the rows before it: fewer than `limit`,
    so it is in the page. A span with a piece elsewhere (sorted before its start, or past the keyset while the
    span is not) is `several`, and read_sql answers instead.

    It reads without FINAL, which costs ClickHouse ~3 ms of a 5,000-span page (the pieces' dedup by the whole
    sorting key and version, in the page's scan and in _SEVERAL_PIECES): a piece stored twice (an event sent
    again, before a merge replaces one copy by the other) is two rows of its span in both, so its span is
    `several` and read_sql, with FINAL, answers. A deleted piece is gone from both reads alike (lightweight
    DELETE masks rows with or without FINAL)."""
    where, _, order, limit = _page_parts(window)
    past = where
    if window.after is not None:
        past += f" AND (ifNull(start_time, ts), span_id) {'<' if window.descending else '>'} " \
            "({after_start:DateTime64(6, 'UTC')}, {after_id:String})"  # fmt: skip
    columns = f"{_PIECE_SKELETON},\n    {_piece_details(details)}" if details else _PIECE_SKELETON
    columns += f",\n    {_TAIL[False]}"
    desc = " DESC" if window.descending else ""
    if executions == 1 or not limit:
        several = (_SEVERAL_PIECES_OF_ONE if executions == 1 else _SEVERAL_PIECES).format(where=where)
        if executions == 1:  # its id is the same in every row: neither the set nor the sort needs it (~1 ms each)
            order = f" ORDER BY start{desc}, span_id{desc}"
        limit = " LIMIT {limit:UInt64}" if limit else ""
        return f"SELECT {columns},\n    {several} AS several FROM spans WHERE {past}{order}{limit}"
    spans = f"SELECT execution_id, span_id FROM spans WHERE {past} " \
        f"ORDER BY execution_id, ifNull(start_time, ts){desc}, span_id{desc}{limit}"  # fmt: skip
    return (
        f"SELECT {columns},\n    count() OVER (PARTITION BY execution_id, span_id) > 1 AS several FROM spans "
        f"WHERE {where} AND (execution_id, span_id) IN ({spans}){order}"
    )


# ClickHouse's query_plan_max_limit_for_lazy_materialization: a bigger LIMIT reads every column before it.
_LAZY_ROWS = 10_000
# The smallest first page read as a page past a cursor (one_piece_read_sql) rather than as the pieces of its
# trace (piece_read_sql), which reads every column of every piece of the trace (the window counting pieces
# needs them all before the LIMIT): a first 5,000 spans of a 50,000-span trace read in ~68 ms instead of ~107.
# But one_piece_read_sql costs ~3 ms more to plan and run its subquery, which a trace no bigger than its page
# pays for nothing: a smaller first page, as asked of small traces (their 1,000 spans at once: ~12.5 vs
# ~15.3 ms), keeps the one scan.
_LAZY_FIRST_PAGE = 2_000


def _first_page_read_lazily(window: SpanWindow, details: frozenset[str], execution_ids: list[str]) -> bool:
    """Whether a first page (no keyset) is read by one_piece_read_sql: one execution's, with details (a
    skeleton's pieces read reads no texts), of _LAZY_FIRST_PAGE to _LAZY_ROWS spans."""
    return bool(details) and len(execution_ids) == 1 and _LAZY_FIRST_PAGE <= (window.limit or 0) <= _LAZY_ROWS


async def read_spans(
    ch: ClickHouse,
    tenant_id: str,
    execution_ids: list[str],
    window: SpanWindow = SpanWindow(),
    details: frozenset[str] = ALL_DETAILS,
    block_rows: int = BLOCK_ROWS,
) -> list[SpanRecord]:
    """The merged spans of `window` in each of the executions, in (execution, window order). One query when
    the pieces read are of spans of one piece each, else two: then the second, read_sql, answers alone, as
    one snapshot. The fields not in `details` are left empty. Rows are converted `block_rows` at a time
    (ClickHouse.query_converted)."""
    params: dict[str, Any] = {"tenant": tenant_id, "ids": execution_ids}
    if window.after is not None:
        params["after_start"], params["after_id"] = window.after
    if window.limit is not None:
        params["limit"] = window.limit
    # Rows become records block by block as ClickHouse sends them (ClickHouse.query_converted): a big page is
    # never held as raw rows and records at once.
    record = SpanRecord.from_columns if details else SpanRecord.of_skeleton_columns
    if window.after is None and not _first_page_read_lazily(window, details, execution_ids):
        several, read = False, 0
        counted = _counts_pieces_read(window)

        def pieces_read(columns: Sequence[Sequence[Any]]) -> list[SpanRecord]:
            nonlocal several, read  # the last column, span_pieces: a span of several pieces makes the rows not the page
            read = max(read, columns[-2][0] if counted and columns[0] else 0)
            if columns[-1].count(1) != len(columns[-1]):
                several = True
                raise EndOfRead  # the rest of the rows are of no use: the merging read answers
            return SpanRecord.of_piece_columns(columns, details)

        records = await ch.query_converted(piece_read_sql(window, details), params, pieces_read, block_rows,
                                           settings=PIECE_READ_SETTINGS)  # fmt: skip
        ch.rows_read(read)
        if not several:  # every span read is of one piece: the rows are the page
            return records
        del records
    else:
        several = False

        seen: set[tuple[str, str]] = set()
        rows = 0

        def one_piece(columns: Sequence[Sequence[Any]]) -> list[SpanRecord]:
            nonlocal several, rows  # the last column: a row's span has another piece, so the rows may not be the page
            # A span read twice is of several pieces too: the several-pieces set is a subquery, which may see the
            # table's parts from before a piece committed meanwhile that the scan sees.
            rows += len(columns[0])
            seen.update(zip(columns[0], columns[1], strict=True))
            if any(columns[-1]) or len(seen) != rows:
                several = True
                raise EndOfRead
            return SpanRecord.of_piece_columns(columns, details)

        sql = one_piece_read_sql(window, details, len(execution_ids))
        records = await ch.query_converted(sql, params, one_piece, block_rows)
        if not several:
            return records
        del records
    # a span of several pieces in the page: the read that merges them
    return await ch.query_converted(read_sql(window, details), params, record, block_rows)


async def spans_of_executions(ch: ClickHouse, tenant_id: str, execution_ids: list[str]) -> list[SpanRecord]:
    """Every merged span of the given executions, in (execution, start, id) order: one query."""
    return await read_spans(ch, tenant_id, execution_ids)


async def trace_with_event_ids(ch: ClickHouse, tenant_id: str, execution_id: str) -> tuple[list[SpanRecord], set[str]]:
    """An execution's merged spans, each with its merge basis, and, from the same read, the events they reflect
    (`source` NUL `event id`: an id is unique within its format)."""
    rows = await ch.query(
        f"SELECT {MERGED_COLUMNS}, {_BASIS}, groupArray(concat(source, '\\0', event_id)) FROM spans FINAL "
        "WHERE tenant_id = {tenant:String} AND execution_id = {id:String} "
        "GROUP BY execution_id, span_id ORDER BY start, span_id",
        {"tenant": tenant_id, "id": execution_id},
    )
    return [SpanRecord.with_basis(r) for r in rows.rows], {i for r in rows.rows for i in r[-1]}


async def spans_by_keys(ch: ClickHouse, tenant_id: str, keys: list[tuple[str, str]]) -> list[SpanRecord]:
    """The merged spans named by (execution id, span id): a read of their own pieces only (the sorting key
    leads with tenant, execution and span), not of their whole traces."""
    rows = await ch.query(
        f"SELECT {MERGED_COLUMNS} FROM spans FINAL "
        "WHERE tenant_id = {tenant:String} AND execution_id IN {executions:Array(String)} "
        "AND span_id IN {spans:Array(String)} "
        "GROUP BY execution_id, span_id ORDER BY execution_id, start, span_id",
        {"tenant": tenant_id, "executions": sorted({e for e, _ in keys}), "spans": sorted({s for _, s in keys})},
    )
    wanted = set(keys)
    return [record for record in map(SpanRecord.from_row, rows.rows) if (record.execution_id, record.id) in wanted]
