"""The annotation write paths' request bodies, as OpenAPI documents them (the adapters in ingest/ check them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class VellumActual(_Open):
    """One output's feedback: `output_key` (or `output_id`), a `quality` in [0, 1] and/or the value the
    output should have had."""

    output_key: str | None = None
    output_id: str | None = None
    output_type: Literal["STRING", "JSON", "CHAT_HISTORY"] | None = None
    quality: float | None = None
    desired_output_value: Any = None
    metadata: dict[str, Any] | None = None
    timestamp: float | None = None


class VellumActuals(_Open):
    """`client.submit_workflow_execution_actuals(...)`: actuals of one execution (`execution_id` or `external_id`)."""

    actuals: list[VellumActual]
    execution_id: str | None = None
    external_id: str | None = None


class SpanAnnotationResult(_Open):
    label: str | None = None
    score: float | None = None
    explanation: str | None = None


class SpanAnnotation(_Open):
    span_id: str
    name: str
    annotator_kind: Literal["LLM", "CODE", "HUMAN"]
    result: SpanAnnotationResult | None = None
    metadata: dict[str, Any] | None = None
    identifier: str = ""


class SpanAnnotations(_Open):
    """Phoenix's `POST /v1/span_annotations` body."""

    data: list[SpanAnnotation]
