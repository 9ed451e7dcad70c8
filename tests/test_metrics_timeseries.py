"""The `metrics` time series, checked against the same figures computed in Python from the spans logged."""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from server.state import AppState
from tests.conftest import Tenant
from tests.traces import LOG_SPANS

T = datetime(2024, 5, 6, 9, tzinfo=UTC)  # a Monday, 09:00 UTC
MODELS = ("gpt-4o", "claude", "gemini")
NAMES = ("plan", "llm.call", "tool.search")

METRICS = """query($from: DateTime!, $to: DateTime!, $bucket: TimeBucket!, $groupBy: MetricsGroupBy,
    $unit: MetricsUnit, $filter: MetricsFilter, $maxGroups: Int) {
  metrics(from: $from, to: $to, bucket: $bucket, groupBy: $groupBy, unit: $unit, filter: $filter,
          maxGroups: $maxGroups) {
    from to bucket unit groupBy
    series { key points { bucket count errors latencyP50Ms latencyP90Ms latencyP99Ms inputTokens outputTokens
                          totalTokens costUsd } } } }"""


@dataclass
class Logged:
    """A span as the test logged it: what metrics must count."""

    execution: str
    parent: str | None
    name: str
    status: str
    start: datetime
    end: datetime | None
    model: str
    input_tokens: int
    output_tokens: int
    cost: float

    @property
    def latency(self) -> float | None:
        return None if self.end is None else (self.end - self.start) / timedelta(milliseconds=1)


def make_spans(seed: int, executions: int, start: datetime = T, hours: int = 3) -> list[Logged]:
    """Executions of 1 to 6 spans starting anywhere in `hours` from `start`, microsecond times, mixed
    statuses (some RUNNING), models, usage and cost."""
    rng = random.Random(seed)
    out: list[Logged] = []
    for e in range(executions):
        root_start = start + timedelta(microseconds=rng.randrange(hours * 3600 * 10**6))
        for s in range(rng.randint(1, 6)):
            begin = root_start + timedelta(microseconds=s * rng.randrange(1, 5_000_000))
            status = rng.choice(("SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "FAILED", "RUNNING"))
            end = None if status == "RUNNING" else begin + timedelta(microseconds=rng.randrange(1, 9_000_000))
            llm = rng.random() < 0.5
            out.append(Logged(
                execution=f"ex-{seed}-{e}", parent=None if s == 0 else "s0", name=rng.choice(NAMES), status=status,
                start=begin, end=end, model=rng.choice(MODELS) if llm else "",
                input_tokens=rng.randrange(1, 900) if llm else 0, output_tokens=rng.randrange(0, 300) if llm else 0,
                cost=round(rng.random(), 6) if llm else 0.0,
            ))  # fmt: skip
    return out


def span_input(i: int, s: Logged) -> dict[str, Any]:
    span: dict[str, Any] = {
        "id": f"s{i}" if s.parent else "s0", "executionId": s.execution, "parentId": s.parent, "name": s.name,
        "status": s.status, "startTime": s.start.isoformat(), "endTime": s.end.isoformat() if s.end else None,
    }  # fmt: skip
    if s.model:
        span["usage"] = {"model": s.model, "inputTokens": s.input_tokens, "outputTokens": s.output_tokens}
        span["cost"] = [{"value": s.cost, "unit": "USD"}, {"value": 7.0, "unit": "EUR"}]  # only USD is summed
    return span


async def log(tenant: Tenant, spans: list[Logged]) -> None:
    rows = [span_input(i, s) for i, s in enumerate(spans)]
    for i in range(0, len(rows), 1000):
        await tenant.gql_data(LOG_SPANS, {"s": rows[i : i + 1000]})


def percentiles(values: list[float]) -> tuple[float | None, float | None, float | None]:
    """p50, p90, p99 by linear interpolation between closest ranks (numpy's default, Excel's PERCENTILE.INC)."""
    if not values:
        return None, None, None
    if len(values) == 1:
        return values[0], values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[89], cuts[98]


def bucket_of(t: datetime, seconds: int) -> datetime:
    return datetime.fromtimestamp(math.floor(t.timestamp() / seconds) * seconds, UTC)


def expected(
    spans: list[Logged], since: datetime, until: datetime, seconds: int, key: str | None = None
) -> dict[str | None, list[dict[str, Any]]]:
    """What every series should hold, computed from the logged spans: one point per bucket of the range."""
    buckets = []
    b = bucket_of(since, seconds)
    while b < until:
        buckets.append(b)
        b += timedelta(seconds=seconds)
    grouped: dict[str | None, dict[datetime, list[Logged]]] = defaultdict(lambda: defaultdict(list))
    for s in spans:
        if since <= s.start < until:
            grouped[getattr(s, key) if key else None][bucket_of(s.start, seconds)].append(s)
    out: dict[str | None, list[dict[str, Any]]] = {}
    for group, by_bucket in grouped.items():
        points = []
        for b in buckets:
            got = by_bucket.get(b, [])
            p50, p90, p99 = percentiles([s.latency for s in got if s.latency is not None])
            points.append({
                "bucket": b.isoformat(timespec="microseconds").replace("+00:00", "Z"), "count": len(got),
                "errors": sum(s.status == "FAILED" for s in got), "latencyP50Ms": p50, "latencyP90Ms": p90,
                "latencyP99Ms": p99, "inputTokens": sum(s.input_tokens for s in got),
                "outputTokens": sum(s.output_tokens for s in got),
                "totalTokens": sum(s.input_tokens + s.output_tokens for s in got), "costUsd": sum(s.cost for s in got),
            })  # fmt: skip
        out[group] = points
    return out


def as_expected(series: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    """The response's series, with floats rounded where ClickHouse and Python may differ in the last bits."""
    return {s["key"]: s["points"] for s in series}


def assert_same(got: dict[str | None, list[dict[str, Any]]], want: dict[str | None, list[dict[str, Any]]]) -> None:
    assert set(got) == set(want)
    for key, points in want.items():
        assert len(got[key]) == len(points), key
        for g, w in zip(got[key], points, strict=True):
            assert g == {k: (pytest.approx(v, rel=1e-9, abs=1e-9) if isinstance(v, float) else v)
                         for k, v in w.items()}, (key, g["bucket"])  # fmt: skip


def variables(since: datetime, until: datetime, bucket: str = "HOUR", **more: Any) -> dict[str, Any]:
    return {"from": since.isoformat(), "to": until.isoformat(), "bucket": bucket, **more}


async def test_span_metrics_match_python(tenant: Tenant, other_tenant: Tenant) -> None:
    spans = make_spans(1, 60)
    await log(tenant, spans)
    await log(other_tenant, make_spans(2, 80))  # same hours, another tenant: never counted
    since, until = T - timedelta(hours=1), T + timedelta(hours=4)  # a first and last hour with nothing
    data = (await tenant.gql_data(METRICS, variables(since, until)))["metrics"]
    assert (data["bucket"], data["unit"], data["groupBy"]) == ("HOUR", "SPANS", None)
    assert [s["key"] for s in data["series"]] == [None]
    points = data["series"][0]["points"]
    assert len(points) == 5
    assert points[0] == {"bucket": "2024-05-06T08:00:00.000000Z", "count": 0, "errors": 0, "latencyP50Ms": None,
                         "latencyP90Ms": None, "latencyP99Ms": None, "inputTokens": 0, "outputTokens": 0,
                         "totalTokens": 0, "costUsd": 0.0}  # fmt: skip
    assert_same(as_expected(data["series"]), expected(spans, since, until, 3600))
    assert sum(p["count"] for p in points) == len(spans)


@pytest.mark.parametrize(("group_by", "attribute"), [("MODEL", "model"), ("NAME", "name"), ("STATUS", "status")])
async def test_grouped_metrics_match_python(tenant: Tenant, group_by: str, attribute: str) -> None:
    spans = make_spans(3, 50)
    await log(tenant, spans)
    since, until = T, T + timedelta(hours=3)
    data = await tenant.gql_data(METRICS, variables(since, until, "MINUTE", groupBy=group_by, maxGroups=100))
    series = data["metrics"]["series"]
    assert_same(as_expected(series), expected(spans, since, until, 60, attribute))
    totals = [sum(p["count"] for p in s["points"]) for s in series]
    assert totals == sorted(totals, reverse=True)  # busiest group first


async def test_max_groups_keeps_the_busiest(tenant: Tenant) -> None:
    spans = make_spans(4, 40)
    await log(tenant, spans)
    since, until = T, T + timedelta(hours=3)
    data = await tenant.gql_data(METRICS, variables(since, until, groupBy="NAME", maxGroups=2))
    by_name = expected(spans, since, until, 3600, "name")
    busiest = sorted(by_name, key=lambda k: (-sum(p["count"] for p in by_name[k]), k))[:2]
    assert [s["key"] for s in data["metrics"]["series"]] == busiest


async def test_execution_metrics_match_python(tenant: Tenant) -> None:
    spans = make_spans(5, 40)
    await log(tenant, spans)
    by_execution: dict[str, list[Logged]] = defaultdict(list)
    for s in spans:
        by_execution[s.execution].append(s)
    # An execution: its earliest start, its root's name, status and end; usage and cost over all its spans.
    executions = [
        Logged(
            execution=e, parent=None, name=group[0].name, status=group[0].status, start=min(s.start for s in group),
            end=group[0].end, model="", input_tokens=sum(s.input_tokens for s in group),
            output_tokens=sum(s.output_tokens for s in group), cost=sum(s.cost for s in group),
        )
        for e, group in by_execution.items()
    ]  # fmt: skip
    since, until = T + timedelta(hours=1), T + timedelta(hours=2, minutes=30)
    for group_by, key in ((None, None), ("STATUS", "status"), ("NAME", "name")):
        data = await tenant.gql_data(
            METRICS, variables(since, until, "MINUTE", unit="EXECUTIONS", groupBy=group_by, maxGroups=100)
        )
        assert_same(as_expected(data["metrics"]["series"]), expected(executions, since, until, 60, key))


async def test_filters(tenant: Tenant) -> None:
    spans = make_spans(6, 40)
    await log(tenant, spans)
    since, until = T, T + timedelta(hours=3)
    only = {"names": ["plan"], "statuses": ["failed", "succeeded"], "models": ["", "claude"]}
    kept = [s for s in spans if s.name == "plan" and s.status in ("FAILED", "SUCCEEDED") and s.model in ("", "claude")]
    data = await tenant.gql_data(METRICS, variables(since, until, filter=only))
    assert_same(as_expected(data["metrics"]["series"]), expected(kept, since, until, 3600))


async def test_bucket_edges(tenant: Tenant) -> None:
    """[from, to) with buckets on UTC boundaries whatever zone the bounds are written in; a span on a
    boundary belongs to the bucket it starts."""
    day = datetime(2024, 6, 10, tzinfo=UTC)
    edge = [
        Logged("edge-1", None, "a", "SUCCEEDED", day, day + timedelta(seconds=1), "", 0, 0, 0.0),  # = from
        Logged("edge-2", None, "a", "SUCCEEDED", day + timedelta(hours=24), day + timedelta(hours=25), "", 0, 0, 0.0),
        Logged("edge-3", None, "a", "SUCCEEDED", day + timedelta(hours=48, microseconds=-1), None, "", 0, 0, 0.0),
        Logged("edge-4", None, "a", "SUCCEEDED", day + timedelta(hours=48), None, "", 0, 0, 0.0),  # = to: out
        Logged("edge-5", None, "a", "SUCCEEDED", day - timedelta(microseconds=1), None, "", 0, 0, 0.0),  # before
    ]  # fmt: skip
    for s in edge:  # edge-3 is the last instant before `to`
        s.end = s.end or s.start
    await log(tenant, edge)
    # The same instants written at +02:00.
    variables_ = {"from": "2024-06-10T02:00:00+02:00", "to": "2024-06-12T02:00:00+02:00", "bucket": "DAY"}
    points = (await tenant.gql_data(METRICS, variables_))["metrics"]["series"][0]["points"]
    assert [(p["bucket"], p["count"]) for p in points] == [
        ("2024-06-10T00:00:00.000000Z", 1),
        ("2024-06-11T00:00:00.000000Z", 2),
    ]
    # A range that does not start on a boundary: its first bucket is the one holding `from`.
    hours = {"from": "2024-06-10T23:30:00Z", "to": "2024-06-11T01:00:00Z", "bucket": "HOUR"}
    points = (await tenant.gql_data(METRICS, hours))["metrics"]["series"][0]["points"]
    assert [(p["bucket"], p["count"]) for p in points] == [
        ("2024-06-10T23:00:00.000000Z", 0),
        ("2024-06-11T00:00:00.000000Z", 1),
    ]


async def test_no_data_is_every_bucket_at_zero(tenant: Tenant) -> None:
    series = (await tenant.gql_data(METRICS, variables(T, T + timedelta(hours=3))))["metrics"]["series"]
    assert [(s["key"], [p["count"] for p in s["points"]]) for s in series] == [(None, [0, 0, 0])]
    grouped = await tenant.gql_data(METRICS, variables(T, T + timedelta(hours=3), groupBy="MODEL"))
    assert grouped["metrics"]["series"] == []


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"from": "2024-05-06T10:00:00Z", "to": "2024-05-06T09:00:00Z"}, "to", "later than"),
        ({"from": "2024-05-06T10:00:00Z", "to": "2024-05-06T10:00:00Z"}, "to", "later than"),
        ({"from": "2023-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z", "bucket": "MINUTE"}, "bucket", "at most 2000"),
        ({"from": "1000-01-01T00:00:00Z", "to": "9000-01-01T00:00:00Z", "bucket": "DAY"}, "bucket", "at most 2000"),
        ({"unit": "EXECUTIONS", "groupBy": "MODEL"}, "groupBy", "spans"),
        ({"unit": "EXECUTIONS", "filter": {"models": ["gpt-4o"]}}, "filter.models", "spans"),
        ({"maxGroups": 0}, "maxGroups", "between 1 and 100"),
        ({"maxGroups": 101}, "maxGroups", "between 1 and 100"),
    ],
)
async def test_bad_input(tenant: Tenant, state: AppState, args: dict[str, Any], field: str, message: str) -> None:
    before = state.ch.queries
    body = await tenant.gql(METRICS, {**variables(T, T + timedelta(hours=1)), **args})
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == field
    assert message in error["message"]
    assert state.ch.queries == before  # refused before any query


async def test_unknown_group_and_bucket_are_refused(tenant: Tenant) -> None:
    for args in ({"groupBy": "COLOR"}, {"bucket": "WEEK"}, {"unit": "EVENTS"}):
        body = await tenant.gql(METRICS, {**variables(T, T + timedelta(hours=1)), **args})
        (error,) = body["errors"]
        assert error["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"), error
        assert str(next(iter(args.values()))) in error["message"]


async def test_one_query_whatever_the_data(tenant: Tenant, other_tenant: Tenant, state: AppState) -> None:
    await log(tenant, make_spans(7, 5))
    await log(other_tenant, make_spans(8, 200))
    for who in (tenant, other_tenant):
        for args in ({}, {"groupBy": "MODEL"}, {"unit": "EXECUTIONS", "groupBy": "STATUS"}):
            await state.writer.drain()
            before = state.ch.queries
            await who.gql_data(METRICS, variables(T, T + timedelta(hours=3), "MINUTE", **args))
            assert state.ch.queries - before == 1, args
