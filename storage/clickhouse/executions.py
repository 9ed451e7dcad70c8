"""Executions: the roots of traces, summarized from their merged spans in one query.

An execution's name, kind, status, end, inputs, outputs, error and attributes are its root span's (the
earliest span without a parent, or the earliest span while no root has arrived); its start is the
earliest start of any span; usage and cost roll up over all its spans.

The summary merges every span's skeleton and token counts; the root's texts (inputs, outputs, error,
attributes) are merged for the root span alone, joined by its id: merging every span's texts to keep one
span's made each `execution(id)` of a 50,000-span trace cost as much as reading the whole trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from storage.clickhouse.annotations import AnnotationQuery, matching_executions_sql
from storage.clickhouse.client import ClickHouse
from storage.clickhouse.search import matching_spans_sql
from storage.clickhouse.spans import merged_columns
from storage.clickhouse.values import add_filter, add_time_range, duration_ms, utc


def _root(column: str) -> str:
    return f"if(countIf(parent_id = '') > 0, argMinIf({column}, start, parent_id = ''), argMin({column}, start))"


_SUMMARY = f"""
    execution_id AS id,
    {_root("span_id")} AS root_span_id,
    {_root("name")} AS x_name,
    {_root("kind")} AS x_kind,
    {_root("status")} AS x_status,
    min(start) AS start_time,
    {_root("end")} AS end_time,
    count() AS span_count,
    countIf(status = 'FAILED') AS failed_spans,
    sum(m_input_tokens + m_output_tokens) AS total_tokens,
    max(m_session) AS session_attribute
"""

# Every span: its skeleton, token counts and the OpenInference `session.id` any of its pieces names (the
# pieces' `session_id` column, computed on insert: migration 9). The root span: its texts.
_SPAN_SUMMARY = merged_columns(frozenset({"usage"})) + ", max(session_id) AS m_session"
_ROOT_TEXTS = merged_columns(frozenset({"inputs", "outputs", "error", "attributes"}))

_COLUMNS = (
    "id, root_span_id, x_name, x_kind, x_status, start_time, end_time, inputs, outputs, error, attributes, "
    "span_count, failed_spans, total_tokens, session_attribute"
)

# The orders executions can be listed in: a fixed whitelist, never user text. Field → (SQL over the
# summary, parameter type of its keyset value). A duration is in microseconds, -1 while running.
ORDERS: dict[str, tuple[str, str]] = {
    "START_TIME": ("start_time", "DateTime64(6, 'UTC')"),
    "DURATION": ("ifNull(toUnixTimestamp64Micro(end_time) - toUnixTimestamp64Micro(start_time), -1)", "Int64"),
    "NAME": ("x_name", "String"),
    "SPAN_COUNT": ("span_count", "UInt64"),
    "TOKENS": ("total_tokens", "UInt64"),
}


@dataclass(slots=True)
class ExecutionRecord:
    id: str
    root_span_id: str
    name: str
    kind: str
    status: str
    start_time: datetime
    end_time: datetime | None
    inputs: str
    outputs: str
    error: str
    attributes: str
    span_count: int
    failed_spans: int
    total_tokens: int = 0  # input + output over every span
    session_attribute: str = ""  # the OpenInference `session.id` one of its spans carries

    @property
    def session_id(self) -> str | None:
        """The session it belongs to: a HoneyHive session is its own; an OpenInference trace's is the
        `session.id` attribute of any of its spans."""
        return self.id if self.kind == "SESSION" else self.session_attribute or None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> ExecutionRecord:
        record = cls(*row)
        record.start_time = utc(record.start_time)
        record.end_time = utc(record.end_time) if record.end_time is not None else None
        return record

    @property
    def duration_ms(self) -> float | None:
        return duration_ms(self.start_time, self.end_time)


def session_attribute(attributes: str) -> str:
    """The `session.id` in one span's attributes (JSON text), as the `session_id` column holds it; '' when none."""
    if '"session.id"' not in attributes:
        return ""
    try:
        value = orjson.loads(attributes).get("session.id")
    except (orjson.JSONDecodeError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class ExecutionQuery:
    statuses: tuple[str, ...] = ()
    name: str | None = None
    name_contains: str | None = None
    kinds: tuple[str, ...] = ()
    actor_type: str | None = None
    actor_id: str | None = None
    session_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    failed: bool | None = None
    search: str | None = None  # any span's name, inputs, outputs or error contains it (search.py)
    annotation: AnnotationQuery | None = None  # it or one of its spans has a matching annotation


def _summaries(tenant_id: str, q: ExecutionQuery, ids: list[str] | None = None) -> tuple[str, dict[str, Any]]:
    """SQL of the filtered execution summaries (a subquery) and its parameters."""
    params: dict[str, Any] = {"tenant": tenant_id}
    inner = ["tenant_id = {tenant:String}"]
    if ids is not None:  # an empty list means no execution, not every one
        inner.append("execution_id IN {ids:Array(String)}")
        params["ids"] = ids
    # A session's executions: the HoneyHive session itself, and every trace a span of which carries the
    # OpenInference `session.id` (its pieces' `session_id` column). The one definition of "belongs to the
    # session": the executions subscription asks it too (resolvers/live_executions.py).
    session = (
        "execution_id IN (SELECT execution_id FROM spans WHERE tenant_id = {tenant:String} AND "
        "(execution_id = {session:String} OR session_id = {session:String}))"
    )
    add_filter(inner, params, session, "session", q.session_id)
    if q.actor_type is not None or q.actor_id is not None:
        actor = ["tenant_id = {tenant:String}", "execution_id != ''"]
        add_filter(actor, params, "actor_type = {actor_type:String}", "actor_type", q.actor_type)
        add_filter(actor, params, "actor_id = {actor_id:String}", "actor_id", q.actor_id)
        inner.append(f"execution_id IN (SELECT execution_id FROM events WHERE {' AND '.join(actor)})")
    if q.search is not None:
        inner.append(f"execution_id IN (SELECT execution_id FROM ({matching_spans_sql(q.search, params)}))")
    if q.annotation is not None:
        inner.append(f"execution_id IN ({matching_executions_sql(q.annotation, params)})")
    outer: list[str] = []
    add_filter(outer, params, "x_status IN {statuses:Array(String)}", "statuses", q.statuses)
    add_filter(outer, params, "x_kind IN {kinds:Array(String)}", "kinds", q.kinds)
    add_filter(outer, params, "x_name = {name:String}", "name", q.name)
    contains = "positionCaseInsensitiveUTF8(x_name, {name_contains:String}) > 0"
    add_filter(outer, params, contains, "name_contains", q.name_contains)
    add_time_range("start_time", q.since, q.until, outer, params)
    if q.failed is not None:
        outer.append(("" if q.failed else "NOT ") + "(x_status = 'FAILED' OR failed_spans > 0)")
    summary = (
        f"SELECT {_SUMMARY} FROM (SELECT {_SPAN_SUMMARY} FROM spans FINAL WHERE {' AND '.join(inner)} "
        "GROUP BY execution_id, span_id) GROUP BY execution_id"
    )
    roots = (
        f"SELECT execution_id, span_id, m_inputs, m_outputs, m_error, m_attributes FROM (SELECT {_ROOT_TEXTS} "
        "FROM spans FINAL WHERE tenant_id = {tenant:String} AND (execution_id, span_id) IN "
        f"(SELECT id, root_span_id FROM ({summary})) GROUP BY execution_id, span_id)"
    )
    sql = (
        "SELECT s.id AS id, s.root_span_id AS root_span_id, x_name, x_kind, x_status, start_time, end_time, "
        "r.m_inputs AS inputs, r.m_outputs AS outputs, r.m_error AS error, r.m_attributes AS attributes, "
        f"span_count, failed_spans, total_tokens, session_attribute FROM ({summary}) AS s LEFT JOIN ({roots}) AS r "
        "ON r.execution_id = s.id AND r.span_id = s.root_span_id"
    )
    if outer:
        sql = f"SELECT * FROM ({sql}) WHERE {' AND '.join(outer)}"
    return sql, params


async def executions_by_ids(
    ch: ClickHouse, tenant_id: str, ids: list[str], q: ExecutionQuery | None = None
) -> dict[str, ExecutionRecord]:
    """Summaries of these executions; with `q`, only those of them that match it."""
    sql, params = _summaries(tenant_id, q or ExecutionQuery(), ids)
    rows = await ch.query(f"SELECT {_COLUMNS} FROM ({sql})", params)
    return {r[0]: ExecutionRecord.from_row(r) for r in rows.rows}


async def existing_executions(ch: ClickHouse, tenant_id: str, ids: list[str]) -> set[str]:
    """Which of these executions exist (have a span piece): a read of one row per execution, where the summary
    merges every span (an execution is its spans, so it exists exactly when the summary would find it)."""
    rows = await ch.query(
        "SELECT execution_id FROM spans WHERE tenant_id = {tenant:String} AND execution_id IN {ids:Array(String)} "
        "LIMIT 1 BY execution_id",
        {"tenant": tenant_id, "ids": ids},
    )
    return {r[0] for r in rows.rows}


async def list_executions(
    ch: ClickHouse,
    tenant_id: str,
    q: ExecutionQuery,
    limit: int,
    after: tuple[Any, str] | None,
    order: str = "START_TIME",
    descending: bool = True,
) -> list[ExecutionRecord]:
    """In (ORDERS[order], id) order, newest first by default; `after` is an exclusive keyset (value, id)."""
    sql, params = _summaries(tenant_id, q)
    column, value_type = ORDERS[order]
    direction = "DESC" if descending else "ASC"
    where = ""
    if after is not None:
        op = "<" if descending else ">"
        where = f"WHERE ({column}, id) {op} ({{after_v:{value_type}}}, {{after_id:String}})"
        params["after_v"], params["after_id"] = after
    params["limit"] = limit
    rows = await ch.query(
        f"SELECT {_COLUMNS} FROM ({sql}) {where} ORDER BY {column} {direction}, id {direction} LIMIT {{limit:UInt32}}",
        params,
    )
    return [ExecutionRecord.from_row(r) for r in rows.rows]


async def count_executions(ch: ClickHouse, tenant_id: str, q: ExecutionQuery) -> int:
    sql, params = _summaries(tenant_id, q)
    rows = await ch.query(f"SELECT count() FROM ({sql})", params)
    return int(rows.rows[0][0])


def matching_ids_sql(tenant_id: str, q: ExecutionQuery) -> tuple[str, dict[str, Any]]:
    """SQL selecting the ids (column `id`) of the tenant's executions matching q, and its parameters: what a
    deletion by filter deletes (storage/clickhouse/deletes.py)."""
    sql, params = _summaries(tenant_id, q)
    return f"SELECT id FROM ({sql})", params


@dataclass(slots=True)
class Rollup:
    """Usage per model and cost per unit summed over an execution's spans."""

    usage_by_model: list[tuple[str, int, int, int, int]]
    cost_by_unit: list[tuple[str, float]]


async def rollups(ch: ClickHouse, tenant_id: str, ids: list[str]) -> dict[str, Rollup]:
    params = {"tenant": tenant_id, "ids": ids}
    latest = (
        "SELECT execution_id, argMaxIf({col}, ts, {col} != '') AS v FROM spans FINAL "
        "WHERE tenant_id = {{tenant:String}} AND execution_id IN {{ids:Array(String)}} GROUP BY execution_id, span_id"
    )
    usage = await ch.query(
        "SELECT execution_id, JSONExtractString(u, 'model') AS model, sum(JSONExtractUInt(u, 'input_tokens')), "
        "sum(JSONExtractUInt(u, 'output_tokens')), sum(JSONExtractUInt(u, 'cache_creation_input_tokens')), "
        f"sum(JSONExtractUInt(u, 'cache_read_input_tokens')) FROM ({latest.format(col='usage')}) "
        "ARRAY JOIN JSONExtractArrayRaw(v) AS u GROUP BY execution_id, model ORDER BY execution_id, model",
        params,
    )
    cost = await ch.query(
        "SELECT execution_id, JSONExtractString(c, 'unit') AS unit, sum(JSONExtractFloat(c, 'value')) "
        f"FROM ({latest.format(col='cost')}) ARRAY JOIN JSONExtractArrayRaw(v) AS c "
        "GROUP BY execution_id, unit ORDER BY execution_id, unit",
        params,
    )
    out = {i: Rollup([], []) for i in ids}
    for execution_id, *counts in usage.rows:
        out[execution_id].usage_by_model.append(tuple(counts))
    for execution_id, unit, value in cost.rows:
        out[execution_id].cost_by_unit.append((unit, float(value)))
    return out


async def execution_actors(ch: ClickHouse, tenant_id: str, ids: list[str]) -> dict[str, tuple[str, str]]:
    """The first actor seen in each execution's events: who started it."""
    rows = await ch.query(
        "SELECT execution_id, argMin(actor_type, timestamp), argMin(actor_id, timestamp) FROM events FINAL "
        "WHERE tenant_id = {tenant:String} AND execution_id IN {ids:Array(String)} AND actor_id != '' "
        "GROUP BY execution_id",
        {"tenant": tenant_id, "ids": ids},
    )
    return {r[0]: (r[1], r[2]) for r in rows.rows}


async def executions_among(ch: ClickHouse, tenant_id: str, q: ExecutionQuery, ids: list[str]) -> list[ExecutionRecord]:
    """Those of `ids` that match `q`, in id order: one page of a walk over every execution (export)."""
    sql, params = _summaries(tenant_id, q, ids)
    rows = await ch.query(f"SELECT {_COLUMNS} FROM ({sql}) ORDER BY id", params)
    return [ExecutionRecord.from_row(r) for r in rows.rows]
