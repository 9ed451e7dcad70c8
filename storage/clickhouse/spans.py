"""Reading spans: each span is the merge of its pieces (one per event), computed in one GROUP BY.

Merge rules: a terminal status (SUCCEEDED, FAILED, CANCELLED) from the latest terminal piece wins, else
RUNNING; start is the earliest start (or the earliest piece); end the latest end; every other field is
the latest piece that says something about it. So pieces may arrive in any order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.values import duration_ms, utc

_TERMINAL = "('SUCCEEDED', 'FAILED', 'CANCELLED')"
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

MERGED_COLUMNS = f"""{MERGED_SKELETON},
    argMaxIf(inputs, ts, inputs != '') AS m_inputs,
    argMaxIf(outputs, ts, outputs != '') AS m_outputs,
    argMaxIf(error, ts, error != '') AS m_error,
    if(countIf(attributes LIKE '{{%') < 2, argMaxIf(attributes, ts, attributes != ''), {_MERGED_ATTRIBUTES})
        AS m_attributes,
    argMaxIf(usage, ts, usage != '') AS m_usage,
    argMaxIf(cost, ts, cost != '') AS m_cost,
    argMaxIf(input_tokens, ts, usage != '') AS m_input_tokens,
    argMaxIf(output_tokens, ts, usage != '') AS m_output_tokens,
    argMaxIf(cache_creation_input_tokens, ts, usage != '') AS m_cache_creation_input_tokens,
    argMaxIf(cache_read_input_tokens, ts, usage != '') AS m_cache_read_input_tokens,
    count() AS pieces,
    max(ts) AS last_ts,
    formatDateTime(start, {_ISO}, 'UTC') AS start_iso,
    formatDateTime(end, {_ISO}, 'UTC') AS end_iso
"""

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
    def with_basis(cls, row: tuple[Any, ...]) -> SpanRecord:
        record = cls.from_row(row)
        start_given, end, *times = row[22]
        said_at = {field: utc(t) if t is not None else None for field, t in zip(BASIS_FIELDS, times, strict=True)}
        record.basis = MergeBasis(bool(start_given), utc(end) if end is not None else None, said_at)
        return record

    @property
    def duration_ms(self) -> float | None:
        return duration_ms(self.start_time, self.end_time)


async def spans_of_executions(ch: ClickHouse, tenant_id: str, execution_ids: list[str]) -> list[SpanRecord]:
    """Every merged span of the given executions, in (execution, start, id) order: one query."""
    rows = await ch.query(
        f"SELECT {MERGED_COLUMNS} FROM spans FINAL "
        "WHERE tenant_id = {tenant:String} AND execution_id IN {ids:Array(String)} "
        "GROUP BY execution_id, span_id ORDER BY execution_id, start, span_id",
        {"tenant": tenant_id, "ids": execution_ids},
    )
    return [SpanRecord.from_row(r) for r in rows.rows]


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
