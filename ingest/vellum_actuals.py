"""Vellum's "submit workflow execution actuals" (`POST /v1/submit-workflow-execution-actuals`, the SDK's
`client.submit_workflow_execution_actuals`) as annotations of the execution.

Body (vellum-ai 1.14): `{"actuals": [{"output_id" | "output_key", "output_type": "STRING" | "JSON" |
"CHAT_HISTORY", "quality": 0..1, "desired_output_value", "metadata", "timestamp"}], "execution_id" |
"external_id"}`. Each actual is one annotation named by its output key (else its output id): `quality` is
the score, the desired output value the comment (as text; the value itself is kept in `metadata` with the
output type and the actual's own metadata), `timestamp` (Unix seconds, or milliseconds) the time it was
given. An actual needs a quality or a desired value. Tracehouse's execution ids are the ids clients send,
so `external_id` names the execution as `execution_id` does. The source is HUMAN: actuals are what people
say the output should have been. Submitting an output's actual again replaces it.
"""

from __future__ import annotations

from typing import Any

from ingest.annotations import build, derived_id
from ingest.validation import InvalidInput, Loc, dumps, obj, opt_list, opt_obj, opt_str, parse_millis
from storage.clickhouse.annotations import AnnotationRecord

OUTPUT_TYPES = ("STRING", "JSON", "CHAT_HISTORY")


def adapt_actuals(body: Any, author: str) -> tuple[str, list[AnnotationRecord]]:
    """(execution id, its annotations); InvalidInput names the field at fault."""
    body = obj(body, ())
    execution_id = opt_str(body, "execution_id", ()) or opt_str(body, "external_id", ())
    if not execution_id:
        raise InvalidInput(("execution_id",), "one of execution_id or external_id is required", "missing")
    actuals = opt_list(body, "actuals", ())
    if not actuals:
        raise InvalidInput(("actuals",), "at least one actual is required", "missing")
    return execution_id, [_actual(obj(a, ("actuals", i)), ("actuals", i), execution_id, author)
                          for i, a in enumerate(actuals)]  # fmt: skip


def _actual(actual: dict[str, Any], loc: Loc, execution_id: str, author: str) -> AnnotationRecord:
    key = opt_str(actual, "output_key", loc) or opt_str(actual, "output_id", loc)
    if not key:
        raise InvalidInput((*loc, "output_key"), "one of output_key or output_id is required", "missing")
    output_type = actual.get("output_type")
    if output_type is not None and output_type not in OUTPUT_TYPES:
        raise InvalidInput((*loc, "output_type"), f"must be one of {', '.join(OUTPUT_TYPES)}", "enum")
    quality = actual.get("quality")
    if quality is not None and (isinstance(quality, bool) or not isinstance(quality, int | float)
                                or not 0.0 <= quality <= 1.0):  # fmt: skip
        raise InvalidInput((*loc, "quality"), "must be a number between 0.0 and 1.0", "value_error")
    desired = actual.get("desired_output_value")
    if quality is None and desired is None:
        raise InvalidInput((*loc, "quality"), "an actual needs a quality or a desired_output_value", "missing")
    metadata: dict[str, Any] = {
        k: v for k, v in (("output_type", output_type), ("output_id", actual.get("output_id")),
                          ("output_key", actual.get("output_key")), ("desired_output_value", desired),
                          ("metadata", opt_obj(actual, "metadata", loc))) if v is not None
    }  # fmt: skip
    timestamp = actual.get("timestamp")
    comment = desired if isinstance(desired, str) or desired is None else dumps(desired, (*loc, "desired_output_value"))
    return build(
        loc, execution_id, "", key, "HUMAN", "vellum", author,
        score=quality,
        comment=comment,
        metadata=metadata,
        created_at=parse_millis(timestamp, (*loc, "timestamp")) if timestamp is not None else None,
        annotation_id=derived_id("vellum", execution_id, key),
    )  # fmt: skip
