"""Time-series metrics over merged spans or executions: one query per request, per UTC bucket and group.

What is counted: SPANS counts every span whose start lies in [since, until); EXECUTIONS counts every
execution (trace) whose start (its earliest span's start) lies there, with its root span's name, kind and
status, its root span's latency, and tokens and cost summed over all its spans. Spans are merged first
(the rule of storage/clickhouse/spans.py: terminal status wins, start is the earliest, every other field
the latest piece that says something), so a span sent in pieces counts once.

Per point: count, errors (status FAILED), latency percentiles of the ended ones (exact:
quantilesExactInclusive, interpolated as numpy and `statistics.quantiles(method="inclusive")`; NULL when
none ended), input, output
and total tokens, and the sum of USD cost entries. Buckets are epoch-aligned in UTC, so a DAY starts at
00:00 UTC whatever the server's zone. Every bucket of the range is returned for every group, with zeros
where nothing started (WITH FILL, per group), so a chart needs no gap logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.spans import MERGED_SKELETON
from storage.clickhouse.values import add_filter, clamp, utc

# The USD entries of a cost list ([{value, unit[, source]}]), summed.
_USD = (
    "arraySum(arrayMap(c -> JSONExtractFloat(c, 'value'), "
    "arrayFilter(c -> JSONExtractString(c, 'unit') = 'USD', JSONExtractArrayRaw(cost))))"
)

# Only the fields metrics need, merged by the rule of spans.py (reading inputs and outputs would cost more
# than the rest of the query).
_MERGED = f"""{MERGED_SKELETON},
    argMaxIf(JSONExtractString(usage, 1, 'model'), ts, usage != '') AS model,
    argMaxIf(input_tokens, ts, usage != '') AS input_tokens,
    argMaxIf(output_tokens, ts, usage != '') AS output_tokens,
    argMaxIf({_USD}, ts, cost != '') AS cost_usd
"""


def _root(column: str) -> str:
    """The root span's value (the earliest span without a parent, else the earliest span), as executions.py."""
    return f"if(countIf(parent_id = '') > 0, argMinIf({column}, start, parent_id = ''), argMin({column}, start))"


# Aliased apart from the span columns they read (ClickHouse resolves a name to an alias first), then renamed.
_EXECUTION = f"""
    {_root("name")} AS x_name,
    {_root("kind")} AS x_kind,
    {_root("status")} AS x_status,
    min(start) AS x_start,
    {_root("end")} AS x_end,
    sum(input_tokens) AS x_input_tokens,
    sum(output_tokens) AS x_output_tokens,
    sum(cost_usd) AS x_cost_usd
"""
_EXECUTION_AS_SPAN = (
    "x_name AS name, x_kind AS kind, x_status AS status, '' AS model, x_start AS start, x_end AS end, "
    "x_input_tokens AS input_tokens, x_output_tokens AS output_tokens, x_cost_usd AS cost_usd"
)

# Group keys: fixed expressions chosen by name, never text from a request. A span's model is that of its
# first usage entry ('' when it has none).
GROUPS = {"model": "model", "name": "name", "status": "status"}
UNITS = ("spans", "executions")


@dataclass(frozen=True)
class MetricsQuery:
    since: datetime
    until: datetime
    step_seconds: int
    unit: str = "spans"
    group_by: str | None = None
    max_groups: int = 20
    names: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    models: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MetricsRow:
    key: str
    bucket: datetime
    count: int
    errors: int
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float


_STEP = "toIntervalSecond({step:UInt32})"
_SINCE = "{since:DateTime64(6, 'UTC')}"
_UNTIL = "{until:DateTime64(6, 'UTC')}"
_LAST_INSTANT = f"({_UNTIL} - toIntervalMicrosecond(1))"


def _bucket_of(time: str) -> str:
    """The start of the bucket holding `time`: epoch-aligned, so UTC boundaries (a DateTime, in seconds)."""
    return f"toStartOfInterval({time}, {_STEP})"


def _source(q: MetricsQuery, params: dict[str, Any]) -> str:
    """The counted things, one row each: (name, kind, status, model, start, end, tokens, cost)."""
    # Pieces are narrowed before the merge to the executions with a piece starting in range: a superset, as
    # a span's merged start is one of its pieces' start (or time), and an execution's one of its spans'.
    # (A set of execution ids costs half what a set of (execution, span) pairs does.) The exact test on the
    # merged start follows.
    in_range = f"ifNull(start_time, ts) >= {_SINCE} AND ifNull(start_time, ts) < {_UNTIL}"
    narrow = f"execution_id IN (SELECT execution_id FROM spans WHERE tenant_id = {{tenant:String}} AND {in_range})"
    merged = (
        f"SELECT {_MERGED} FROM spans FINAL WHERE tenant_id = {{tenant:String}} AND {narrow} "
        "GROUP BY execution_id, span_id"
    )
    if q.unit == "executions":
        merged = f"SELECT {_EXECUTION_AS_SPAN} FROM (SELECT {_EXECUTION} FROM ({merged}) GROUP BY execution_id)"
    where = [f"start >= {_SINCE}", f"start < {_UNTIL}"]
    add_filter(where, params, "name IN {names:Array(String)}", "names", q.names)
    add_filter(where, params, "kind IN {kinds:Array(String)}", "kinds", q.kinds)
    add_filter(where, params, "status IN {statuses:Array(String)}", "statuses", q.statuses)
    add_filter(where, params, "model IN {models:Array(String)}", "models", q.models)
    return f"SELECT * FROM ({merged}) WHERE {' AND '.join(where)}"


def metrics_sql(tenant_id: str, q: MetricsQuery) -> tuple[str, dict[str, Any]]:
    if q.unit not in UNITS:
        raise ValueError(f"unknown unit {q.unit!r}")
    if q.group_by is not None and q.group_by not in GROUPS:
        raise ValueError(f"unknown group {q.group_by!r}")
    params: dict[str, Any] = {
        "tenant": tenant_id, "since": clamp(q.since), "until": clamp(q.until), "step": q.step_seconds,
        "max_groups": q.max_groups,
    }  # fmt: skip
    key = GROUPS[q.group_by] if q.group_by else "''"
    bucket = _bucket_of("start")
    latency = "dateDiff('microsecond', start, end) / 1000.0"
    grouped = (
        f"SELECT {key} AS key, {bucket} AS bucket, count() AS n, countIf(status = 'FAILED') AS errors, "
        "countIf(end IS NOT NULL) AS ended, "
        f"quantilesExactInclusiveIf(0.5, 0.9, 0.99)({latency}, end IS NOT NULL) AS q, "
        "sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd "
        f"FROM ({_source(q, params)}) GROUP BY key, bucket"
    )
    # The busiest groups (by count over the whole range) are kept; their order is the series' order.
    ranked = (
        "SELECT *, dense_rank() OVER (ORDER BY total DESC, key) AS rank "
        f"FROM (SELECT *, sum(n) OVER (PARTITION BY key) AS total FROM ({grouped}))"
    )
    # Latencies are Nullable so that the rows WITH FILL adds (zeros elsewhere) have none.
    nullable = "if(ended = 0, NULL, q[{i}])"
    sql = (
        f"SELECT rank, key, bucket, n, errors, {nullable.format(i=1)}, {nullable.format(i=2)}, {nullable.format(i=3)}, "
        f"input_tokens, output_tokens, cost_usd FROM ({ranked}) WHERE rank <= {{max_groups:UInt32}} "
        f"ORDER BY rank, key, bucket WITH FILL FROM {_bucket_of(_SINCE)} "
        f"TO {_bucket_of(_LAST_INSTANT)} + {_STEP} STEP {_STEP}"
    )
    return sql, params


async def metrics(ch: ClickHouse, tenant_id: str, q: MetricsQuery) -> list[MetricsRow]:
    """Rows in series order (busiest group first), each series every bucket of the range in time order."""
    sql, params = metrics_sql(tenant_id, q)
    rows = await ch.query(sql, params)
    return [
        MetricsRow(key, utc(bucket), int(n), int(errors), p50, p90, p99, int(i), int(o), float(c))
        for rank, key, bucket, n, errors, p50, p90, p99, i, o, c in rows.rows
        # Rank 0 is no group: the zeros WITH FILL makes when nothing matched, kept only when not grouping.
        if rank > 0 or q.group_by is None
    ]
