"""The `metrics` root field: checks the range against the bucket budget, asks storage once, cuts the rows
into one series per group."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from resolvers.errors import bad_input
from storage.clickhouse.client import ClickHouse
from storage.clickhouse.metrics import MetricsQuery, MetricsRow, metrics
from storage.clickhouse.values import clamp

BUCKET_SECONDS = {"MINUTE": 60, "HOUR": 3600, "DAY": 86400}
# A day of minutes (1,440) fits; a year of minutes (525,600) does not. With up to MAX_GROUPS series, a
# response holds at most 200,000 points.
MAX_BUCKETS = 2000
MAX_GROUPS = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Series:
    key: str | None  # the group's value (a model, name or status); None when not grouped
    points: list[MetricsRow] = field(default_factory=list)


@dataclass(frozen=True)
class MetricsFilterValues:
    names: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    models: tuple[str, ...] = ()


def bucket_count(since: datetime, until: datetime, step_seconds: int) -> int:
    """Buckets from the one holding `since` (epoch-aligned, UTC) to the one holding the last instant before `until`."""
    first = math.floor((since - _EPOCH).total_seconds() / step_seconds)
    last = math.ceil((until - _EPOCH).total_seconds() / step_seconds)
    return last - first


def check(
    since: datetime, until: datetime, bucket: str, unit: str, group_by: str | None, max_groups: int, models: bool
) -> int:
    """The bucket width in seconds, or a BAD_USER_INPUT naming what is wrong."""
    since, until = clamp(since), clamp(until)
    if until <= since:
        raise bad_input("`to` must be later than `from`", "to")
    step = BUCKET_SECONDS[bucket]
    buckets = bucket_count(since, until, step)
    if buckets > MAX_BUCKETS:
        raise bad_input(
            f"{buckets} {bucket} buckets from `from` to `to`: at most {MAX_BUCKETS} buckets a request "
            "(use a wider bucket or a shorter range)",
            "bucket",
        )
    if unit == "executions" and group_by == "model":
        raise bad_input("groupBy MODEL counts spans: an execution may use several models", "groupBy")
    if unit == "executions" and models:
        raise bad_input("filter.models applies to spans: an execution may use several models", "filter.models")
    if not 1 <= max_groups <= MAX_GROUPS:
        raise bad_input(f"maxGroups must be between 1 and {MAX_GROUPS}", "maxGroups")
    return step


async def metrics_series(
    ch: ClickHouse,
    tenant_id: str,
    since: datetime,
    until: datetime,
    bucket: str,
    unit: str,
    group_by: str | None,
    max_groups: int,
    only: MetricsFilterValues,
) -> list[Series]:
    step = check(since, until, bucket, unit, group_by, max_groups, bool(only.models))
    query = MetricsQuery(
        since=since, until=until, step_seconds=step, unit=unit, group_by=group_by, max_groups=max_groups,
        names=only.names, kinds=only.kinds, statuses=only.statuses, models=only.models,
    )  # fmt: skip
    rows = await metrics(ch, tenant_id, query)
    series: list[Series] = []
    for row in rows:
        if not series or series[-1].key != (row.key if group_by else None):
            series.append(Series(row.key if group_by else None))
        series[-1].points.append(row)
    return series
