"""Feedback write paths in the vendors' shapes: Vellum's workflow execution actuals and OpenInference
(Arize Phoenix) span annotations, plus the hook that stores HoneyHive `feedback` beside its events.

Each checks its whole body, then that every target is in the caller's tenant (404 naming the first one
missing), then writes its annotations in one insert: a request is stored whole or not at all.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ingest.annotations import AnnotationRecord, TargetNotFound, author_of, check_targets, executions_of, store
from ingest.honeyhive_feedback import feedback_annotations
from ingest.openinference_annotations import adapt_span_annotations
from ingest.records import Batch
from ingest.validation import InvalidInput
from ingest.vellum_actuals import adapt_actuals
from server.annotation_schemas import SpanAnnotations, VellumActuals
from server.errors import MalformedJSON
from server.request_body import app_state, json_body, principal, reraise_for_rest
from server.request_schemas import openapi_body
from server.responses import JSON

router = APIRouter()


def _author(request: Request) -> str:
    return author_of(principal(request).key_id)


async def write_with_feedback(request: Request, batch: Batch) -> None:
    """Write a batch of events, then the annotations its HoneyHive `feedback` carries (checked first, so
    feedback that cannot be stored refuses the request before anything is). Feedback ids derive from the
    event and key, so a retry after a failed second write stores each once."""
    try:
        feedback = feedback_annotations(batch, _author(request))
    except InvalidInput as exc:
        raise reraise_for_rest(exc, True) from None
    state = app_state(request)
    tenant = principal(request).tenant_id
    await state.writer.write(tenant, batch)
    await store(state.ch, tenant, feedback)


async def _checked_store(request: Request, records: list[AnnotationRecord]) -> None:
    ch, tenant = app_state(request).ch, principal(request).tenant_id
    await check_targets(ch, tenant, records)
    await store(ch, tenant, records)


@router.post(
    "/v1/submit-workflow-execution-actuals",
    tags=["vellum"],
    status_code=200,
    openapi_extra=openapi_body(VellumActuals, "feedback on the outputs of a workflow execution"),
)
async def submit_workflow_execution_actuals(request: Request) -> Response:
    """Vellum actuals → one annotation per output; 200 with no body (as Vellum answers). 400 for a body that
    is not valid (as Vellum's other write paths), 404 for an execution this tenant does not have."""
    try:
        execution_id, records = adapt_actuals(await json_body(request), _author(request))
    except InvalidInput as exc:
        return JSON({"detail": reraise_for_rest(exc, True).errors}, status_code=400)
    except MalformedJSON as exc:
        detail = [{"loc": ["body"], "msg": f"malformed JSON body: {exc}", "type": "json_invalid"}]
        return JSON({"detail": detail}, status_code=400)
    try:
        await _checked_store(request, records)
    except TargetNotFound:
        return JSON({"detail": f"no workflow execution {execution_id!r}"}, status_code=404)
    return Response(status_code=200)


@router.post(
    "/v1/span_annotations",
    tags=["openinference"],
    openapi_extra=openapi_body(SpanAnnotations, "OpenInference span annotations, as Arize Phoenix takes them"),
)
async def annotate_spans(
    request: Request, sync: bool = Query(default=False, description="Answer with the annotations' ids.")
) -> JSON:
    """Phoenix span annotations → `{"data": [{"id"}]}` with `sync=true`, `{"data": []}` without (as Phoenix,
    which then writes later; here they are stored before either answer). 422 for an invalid body, 404
    naming the span ids this tenant does not have."""
    try:
        records = adapt_span_annotations(await json_body(request), _author(request))
    except InvalidInput as exc:
        raise reraise_for_rest(exc, True) from None
    ch, tenant = app_state(request).ch, principal(request).tenant_id
    found = await executions_of(ch, tenant, sorted({r.span_id for r in records}))
    missing = sorted({r.span_id for r in records} - found.keys())
    if missing:
        return JSON({"detail": f"Spans with IDs {', '.join(missing)} do not exist."}, status_code=404)
    for r in records:
        r.execution_id = found[r.span_id]
    await store(ch, tenant, records)
    return JSON({"data": [{"id": r.id} for r in records] if sync else []})
