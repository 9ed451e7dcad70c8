"""The one annotation model every format lands in, its checks, and its write.

An annotation is feedback on an execution or a span: a name and at least one of a score, a label or a
comment, with who judged (`source`: HUMAN, CODE or LLM), the format it came in (`origin`) and who wrote it
(`author`: the API key). Every path (the GraphQL `annotate` mutations, HoneyHive `feedback`, Vellum
actuals, OpenInference span annotations) builds its records here, so they are checked alike: a bad one
refuses its whole request, naming the field, before anything is stored. A request's annotations are
written in one insert, after their targets were found in the caller's tenant.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from ingest.validation import InvalidInput, Loc, dumps, new_id, now
from storage.clickhouse.annotations import AnnotationRecord, existing_targets, insert_annotations
from storage.clickhouse.client import ClickHouse
from storage.clickhouse.span_lookup import executions_of_spans

__all__ = ["AnnotationRecord", "TargetNotFound", "build", "check_targets", "derived_id", "store"]

SOURCES = ("HUMAN", "CODE", "LLM")
MAX_NAME = 1000
MAX_LABEL = 1000
MAX_COMMENT = 65536
MAX_SCORE = 1e15  # as costs: finite and within ±1e15
_IDS = uuid.UUID("6b0f3d52-94a1-4c1e-8f3e-2a7d5c9e1b60")


def derived_id(*parts: str) -> str:
    """A stable id for feedback a format names (a HoneyHive feedback key, a Vellum output key): written
    again, it replaces the annotation instead of adding one."""
    return str(uuid.uuid5(_IDS, "\x00".join(parts)))


def _text(value: Any, loc: Loc, limit: int, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise InvalidInput(loc, "field required", "missing")
        return None
    if not isinstance(value, str):
        raise InvalidInput(loc, "must be a string", "string_type")
    if required and not value.strip():
        raise InvalidInput(loc, "must be a non-empty string", "string_type")
    if len(value) > limit:
        raise InvalidInput(loc, f"must be at most {limit} characters", "string_too_long")
    if "\x00" in value:
        raise InvalidInput(loc, "must not contain NUL", "value_error")
    return value


def score_of(value: Any, loc: Loc) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(loc, "must be a number", "float_type")
    score = float(value)
    if not math.isfinite(score) or abs(score) > MAX_SCORE:
        raise InvalidInput(loc, f"must be a finite number within ±{MAX_SCORE:g}", "value_error")
    return score


def build(
    loc: Loc,
    execution_id: str,
    span_id: str,
    name: Any,
    source: Any,
    origin: str,
    author: str,
    score: Any = None,
    label: Any = None,
    comment: Any = None,
    metadata: dict[str, Any] | None = None,
    created_at: datetime | None = None,
    annotation_id: str | None = None,
) -> AnnotationRecord:
    """A checked record; InvalidInput names the field (under `loc`) that is wrong."""
    checked_name = _text(name, (*loc, "name"), MAX_NAME, required=True)
    assert checked_name is not None
    if source not in SOURCES:
        raise InvalidInput((*loc, "source"), f"must be one of {', '.join(SOURCES)}", "enum")
    record = AnnotationRecord(
        execution_id=execution_id,
        span_id=span_id,
        id=annotation_id or new_id(),
        name=checked_name,
        score=score_of(score, (*loc, "score")),
        label=_text(label, (*loc, "label"), MAX_LABEL),
        comment=_text(comment, (*loc, "comment"), MAX_COMMENT),
        source=source,
        origin=origin,
        author=author,
        metadata=dumps(metadata, (*loc, "metadata")) if metadata else "",
        created_at=created_at or now(),
    )
    if record.score is None and record.label is None and record.comment is None:
        raise InvalidInput(loc, "an annotation needs at least one of score, label or comment", "missing")
    return record


class TargetNotFound(LookupError):
    """An annotation names an execution or span this tenant does not have."""

    def __init__(self, index: int, execution_id: str, span_id: str) -> None:
        self.index = index
        what = f"span {span_id!r} of execution {execution_id!r}" if span_id else f"execution {execution_id!r}"
        super().__init__(f"no {what}")


async def check_targets(ch: ClickHouse, tenant_id: str, records: list[AnnotationRecord]) -> None:
    """Raise TargetNotFound for the first record whose target the tenant does not have (one query)."""
    if not records:
        return
    found = await existing_targets(ch, tenant_id, [(r.execution_id, r.span_id) for r in records])
    for index, r in enumerate(records):
        if (r.execution_id, r.span_id) not in found:
            raise TargetNotFound(index, r.execution_id, r.span_id)


async def store(ch: ClickHouse, tenant_id: str, records: list[AnnotationRecord]) -> None:
    await insert_annotations(ch, tenant_id, records)


def author_of(key_id: str) -> str:
    return f"api_key:{key_id}"


async def executions_of(ch: ClickHouse, tenant_id: str, span_ids: list[str]) -> dict[str, str]:
    """The execution of each span id the tenant has (formats that name a span alone)."""
    return await executions_of_spans(ch, tenant_id, span_ids) if span_ids else {}
