"""HoneyHive `feedback` as annotations: each key of an event's (or session's) feedback object is one.

HoneyHive events carry `feedback` on `POST /v1/events`, `POST /session/{id}/event`, the SDK's batch paths,
and `PUT /events` (`tracer.enrich_session(feedback=...)`, merged key by key into what the event holds).
The adapters keep it in the span's attributes; this reads it from there, so every path maps it alike:
a number is a score (`{"rating": 4}` → name `rating`, score 4), a boolean or a string a label
(`{"thumbs_up": true}` → label `true`), the key `comment` (and any string too long for a label) a comment;
nulls, objects and lists stay in the attributes only. A session's feedback is about the execution, an
event's about its span. HoneyHive feedback is what users (people) said, so the source is HUMAN.

Ids derive from (execution, span, key): an enrichment that changes a key replaces its annotation, as the
merged feedback in the attributes replaces the key.
"""

from __future__ import annotations

from typing import Any

import orjson

from ingest.annotations import MAX_LABEL, build, derived_id, score_of
from ingest.records import Batch, CanonicalEvent
from storage.clickhouse.annotations import AnnotationRecord

COMMENT_KEYS = ("comment", "comments")


def feedback_annotations(batch: Batch, author: str) -> list[AnnotationRecord]:
    """The annotations the HoneyHive events of `batch` carry (none for other formats); InvalidInput for a
    feedback value that cannot be stored (a score beyond ±1e15)."""
    out: list[AnnotationRecord] = []
    # only HoneyHive's events can carry it: one comparison an event of the other formats, not a call
    for event in [e for e in batch.events if e.source == "honeyhive"]:
        feedback = _feedback(event)
        for key, value in (feedback or {}).items():
            fields = _fields(key, value)
            if fields is None:
                continue
            if "score" in fields:  # checked here so that the error names the key itself: feedback.rating
                fields["score"] = score_of(fields["score"], ("feedback", key))
            span_id = "" if event.span_id == event.execution_id else event.span_id
            record = build(
                ("feedback", key), event.execution_id, span_id, key, "HUMAN", "honeyhive", author,
                annotation_id=derived_id("honeyhive", event.execution_id, span_id, key), **fields,
            )  # fmt: skip
            out.append(record)
    return out


def _feedback(event: CanonicalEvent) -> dict[str, Any] | None:
    if event.source != "honeyhive" or event.span is None or '"feedback"' not in event.span.attributes:
        return None
    attributes = orjson.loads(event.span.attributes)
    feedback = attributes.get("feedback") if isinstance(attributes, dict) else None
    return feedback if isinstance(feedback, dict) else None


def _fields(key: str, value: Any) -> dict[str, Any] | None:
    if isinstance(value, bool):
        return {"label": "true" if value else "false"}
    if isinstance(value, int | float):
        return {"score": value}
    if isinstance(value, str):
        return {"comment": value} if key.lower() in COMMENT_KEYS or len(value) > MAX_LABEL else {"label": value}
    return None
