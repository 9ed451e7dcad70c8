"""Annotations: feedback (a score, a label, a comment) attached to an execution or to one of its spans.

Why ClickHouse and not Postgres: annotations are append-mostly facts that grow with traffic like events,
and what users do with them is filter executions by them and average their scores over time. Both reads
run over the spans in ClickHouse: an annotation held here is one `execution_id IN (subquery)` away from
the executions list and one GROUP BY away from a time series, where a Postgres table would ship an
unbounded list of ids from one store to the other for every filtered page.

One row per annotation, sorted (tenant_id, execution_id, span_id, id): an execution's annotations, its
spans' included, are one contiguous key range. `span_id` is '' for an annotation of the execution itself.
An id written again replaces the row (ReplacingMergeTree on ingested_at, FINAL on read): formats that
name their feedback (HoneyHive feedback keys, Vellum output keys, Phoenix identifiers) get ids derived
from what they name, so sending the same feedback again updates it instead of adding a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.values import add_filter, clamp, utc

COLUMNS = (
    "tenant_id", "execution_id", "span_id", "id", "name", "score", "label", "comment", "source", "origin",
    "author", "metadata", "created_at",
)  # fmt: skip
_READ = "execution_id, span_id, id, name, score, label, comment, source, origin, author, metadata, created_at"


@dataclass(slots=True)
class AnnotationRecord:
    execution_id: str
    span_id: str  # '' when the annotation is about the execution itself
    id: str
    name: str
    score: float | None
    label: str | None
    comment: str | None
    source: str  # HUMAN, CODE or LLM: who judged
    origin: str  # the format it came in: graphql, honeyhive, vellum, openinference
    author: str  # who wrote it: "api_key:<key id>"
    metadata: str  # JSON object text, '' when none
    created_at: datetime

    def row(self, tenant_id: str) -> tuple[Any, ...]:
        return (
            tenant_id, self.execution_id, self.span_id, self.id, self.name, self.score, self.label, self.comment,
            self.source, self.origin, self.author, self.metadata, self.created_at,
        )  # fmt: skip

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> AnnotationRecord:
        record = cls(*row)
        record.created_at = utc(record.created_at)
        return record


@dataclass(frozen=True)
class AnnotationQuery:
    """Which annotations an execution filter asks for; unset fields match any."""

    name: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    label: str | None = None
    source: str | None = None


async def insert_annotations(ch: ClickHouse, tenant_id: str, records: list[AnnotationRecord]) -> None:
    """One insert for the whole request: all of it is stored or none."""
    if records:
        await ch.insert("annotations", [r.row(tenant_id) for r in records], COLUMNS)


async def annotations_of(
    ch: ClickHouse, tenant_id: str, execution_ids: list[str], span_ids: list[str]
) -> list[AnnotationRecord]:
    """The annotations of these executions whose span_id is one of `span_ids` ('' for the executions'
    own), oldest first: a superset of the (execution, span) pairs a loader asks for, in one key-range read."""
    rows = await ch.query(
        f"SELECT {_READ} FROM annotations FINAL WHERE tenant_id = {{tenant:String}} "
        "AND execution_id IN {ids:Array(String)} AND span_id IN {spans:Array(String)} "
        "ORDER BY created_at, id",
        {"tenant": tenant_id, "ids": execution_ids, "spans": span_ids},
    )
    return [AnnotationRecord.from_row(r) for r in rows.rows]


async def existing_targets(
    ch: ClickHouse, tenant_id: str, targets: list[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which (execution_id, span_id) targets exist in the tenant; span_id '' names the execution itself
    (it exists when any of its spans does). One query, reading only the executions named."""
    executions = sorted({e for e, _ in targets})
    spans = sorted({s for _, s in targets if s})
    found: set[tuple[str, str]] = set()
    if spans:
        rows = await ch.query(
            "SELECT DISTINCT execution_id, span_id FROM spans WHERE tenant_id = {tenant:String} "
            "AND execution_id IN {ids:Array(String)} AND span_id IN {spans:Array(String)}",
            {"tenant": tenant_id, "ids": executions, "spans": spans},
        )
        found = {(e, s) for e, s in rows.rows}
    if any(s == "" for _, s in targets):
        rows = await ch.query(
            "SELECT DISTINCT execution_id FROM spans WHERE tenant_id = {tenant:String} "
            "AND execution_id IN {ids:Array(String)}",
            {"tenant": tenant_id, "ids": executions},
        )
        found |= {(r[0], "") for r in rows.rows}
    return found


def matching_executions_sql(q: AnnotationQuery, params: dict[str, Any]) -> str:
    """SQL of the ids of executions with a matching annotation, on the execution or any of its spans.
    Adds its typed parameters (prefixed `ann_`) to `params`; `params` must hold `tenant`."""
    where = ["tenant_id = {tenant:String}"]
    add_filter(where, params, "name = {ann_name:String}", "ann_name", q.name)
    add_filter(where, params, "score >= {ann_min:Float64}", "ann_min", q.min_score)
    add_filter(where, params, "score <= {ann_max:Float64}", "ann_max", q.max_score)
    add_filter(where, params, "label = {ann_label:String}", "ann_label", q.label)
    add_filter(where, params, "source = {ann_source:String}", "ann_source", q.source)
    return f"SELECT execution_id FROM annotations FINAL WHERE {' AND '.join(where)}"


@dataclass(frozen=True, slots=True)
class ScoreRow:
    bucket: datetime
    count: int  # annotations of that name created in the bucket
    scored: int  # those of them with a score
    avg: float | None
    min: float | None
    max: float | None


_STEP = "toIntervalSecond({step:UInt32})"
_SINCE = "{since:DateTime64(6, 'UTC')}"
_UNTIL = "{until:DateTime64(6, 'UTC')}"


async def score_series(
    ch: ClickHouse, tenant_id: str, name: str, since: datetime, until: datetime, step_seconds: int,
    source: str | None = None,
) -> list[ScoreRow]:  # fmt: skip
    """Per epoch-aligned UTC bucket of [since, until), by the annotations' created_at: how many annotations
    named `name`, and the average, minimum and maximum of their scores (NULL where none has one). Every
    bucket of the range is returned (WITH FILL), zeros where nothing was annotated."""
    params: dict[str, Any] = {
        "tenant": tenant_id, "name": name, "since": clamp(since), "until": clamp(until), "step": step_seconds,
    }  # fmt: skip
    where = ["tenant_id = {tenant:String}", "name = {name:String}", f"created_at >= {_SINCE}", f"created_at < {_UNTIL}"]
    add_filter(where, params, "source = {source:String}", "source", source)
    bucket = f"toStartOfInterval(created_at, {_STEP})"
    last = f"toStartOfInterval({_UNTIL} - toIntervalMicrosecond(1), {_STEP})"
    rows = await ch.query(
        f"SELECT {bucket} AS bucket, count() AS n, count(score) AS scored, avg(score), min(score), max(score) "
        f"FROM annotations FINAL WHERE {' AND '.join(where)} GROUP BY bucket "
        f"ORDER BY bucket WITH FILL FROM toStartOfInterval({_SINCE}, {_STEP}) TO {last} + {_STEP} STEP {_STEP}",
        params,
    )
    return [
        ScoreRow(utc(b), int(n), int(s), _finite(a) if s else None, m if s else None, x if s else None)
        for b, n, s, a, m, x in rows.rows
    ]


def _finite(value: Any) -> float | None:
    return None if value is None or value != value else float(value)
