"""What the GraphQL types read and the filters they build, named where graph/ may import them.

The records and query objects are storage's (only storage/ knows how they map to SQL); graph/ takes them
from here so that it depends on resolvers/ alone.
"""

from __future__ import annotations

from storage.clickhouse.aggregates import ActorStatsRecord, Aggregates
from storage.clickhouse.annotations import AnnotationQuery, AnnotationRecord, ScoreRow
from storage.clickhouse.events import EventQuery, EventRecord
from storage.clickhouse.executions import ExecutionQuery, ExecutionRecord
from storage.clickhouse.spans import ALL_DETAILS, SpanRecord
from storage.clickhouse.values import duration_ms
from storage.postgres.entities import EntityRecord

__all__ = [
    "ALL_DETAILS",
    "ActorStatsRecord",
    "Aggregates",
    "AnnotationQuery",
    "AnnotationRecord",
    "EntityRecord",
    "EventQuery",
    "EventRecord",
    "ExecutionQuery",
    "ExecutionRecord",
    "ScoreRow",
    "SpanRecord",
    "duration_ms",
]
