"""OpenInference span annotations in Arize Phoenix's shape (`POST /v1/span_annotations`) as annotations.

Body: `{"data": [{"span_id", "name", "annotator_kind": "LLM" | "CODE" | "HUMAN", "result": {"label",
"score", "explanation"}, "metadata", "identifier"}]}`. `annotator_kind` is the source, `explanation` the
comment. Phoenix names a span by its OpenTelemetry span id alone; the route finds its execution. As in
Phoenix, (span, name, identifier) is one annotation: sending it again updates it.
"""

from __future__ import annotations

from typing import Any

from ingest.annotations import build, derived_id
from ingest.validation import InvalidInput, Loc, obj, opt_obj, opt_str, req_str
from storage.clickhouse.annotations import AnnotationRecord


def adapt_span_annotations(body: Any, author: str) -> list[AnnotationRecord]:
    """Records whose `execution_id` is still '' (the caller fills it in from the span ids)."""
    body = obj(body, ())
    data = body.get("data")
    if not isinstance(data, list):
        raise InvalidInput(("data",), "field required: a list of span annotations", "list_type")
    return [_annotation(obj(item, ("data", i)), ("data", i), author) for i, item in enumerate(data)]


def _annotation(item: dict[str, Any], loc: Loc, author: str) -> AnnotationRecord:
    span_id = req_str(item, "span_id", loc)
    kind = item.get("annotator_kind")
    if kind is None:
        raise InvalidInput((*loc, "annotator_kind"), "field required", "missing")
    result = opt_obj(item, "result", loc) or {}
    identifier = opt_str(item, "identifier", loc)
    try:
        return build(
            loc, "", span_id, item.get("name"), kind, "openinference", author,
            score=result.get("score"), label=result.get("label"), comment=result.get("explanation"),
            metadata=opt_obj(item, "metadata", loc),
            annotation_id=derived_id("openinference", span_id, str(item.get("name")), identifier),
        )  # fmt: skip
    except InvalidInput as exc:
        # Phoenix names them result.score, result.label, result.explanation, annotator_kind.
        renamed = {"score": ("result", "score"), "label": ("result", "label"), "comment": ("result", "explanation"),
                   "source": ("annotator_kind",)}  # fmt: skip
        exc.errors = [{**e, "loc": _rename(list(e["loc"]), len(loc), renamed)} for e in exc.errors]
        raise


def _rename(loc: list[Any], at: int, renamed: dict[str, tuple[str, ...]]) -> list[Any]:
    if len(loc) > at and loc[at] in renamed:
        return [*loc[:at], *renamed[loc[at]], *loc[at + 1 :]]
    return loc
