"""The `annotationScores` root field: one annotation name's scores per time bucket, in one query."""

from __future__ import annotations

from datetime import datetime

from resolvers.errors import bad_input
from resolvers.metrics import check
from storage.clickhouse.annotations import ScoreRow, score_series
from storage.clickhouse.client import ClickHouse


async def annotation_scores(
    ch: ClickHouse, tenant_id: str, name: str, since: datetime, until: datetime, bucket: str, source: str | None
) -> list[ScoreRow]:
    if not name:
        raise bad_input("name must not be empty", "name")
    # The same range and bucket budget as `metrics`.
    step = check(since, until, bucket, "spans", None, 1, False)
    return await score_series(ch, tenant_id, name, since, until, step, source)
