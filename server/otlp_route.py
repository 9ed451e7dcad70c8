"""`POST /v1/traces`: OTLP/HTTP trace export, protobuf or JSON, optionally gzipped.

Answers per the OTLP/HTTP specification: 200 with an ExportTraceServiceResponse in the request's
encoding (`partial_success` counts spans rejected for invalid ids or times, with the first reason); 400
for a body that does not decode; 415 for another content type; 413 over the size limit; 503 with
Retry-After when a store is down (exporters retry those).
"""

from __future__ import annotations

import gzip
import zlib

from fastapi import APIRouter, Request
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from starlette.responses import Response

from ingest import otlp
from ingest.validation import TooLarge
from server.request_body import app_state, principal, raw_body
from server.request_schemas import OtlpTracesRequest, openapi_body
from server.responses import JSON

router = APIRouter(tags=["otlp"])

PROTOBUF = "application/x-protobuf"


def _decompress(body: bytes, encoding: str, limit: int) -> bytes:
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise otlp.UndecodableRequest(f"unsupported Content-Encoding {encoding!r}")
    try:
        # bounded: a small gzip body must not expand past the same limit as a plain one
        out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, limit + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise otlp.UndecodableRequest(f"bad gzip body: {exc}") from None
    if len(out) > limit:
        raise TooLarge(f"decompressed body exceeds the limit of {limit} bytes")
    return out


@router.post(
    "/v1/traces",
    tags=["otlp"],
    openapi_extra=openapi_body(
        OtlpTracesRequest, "an OTLP ExportTraceServiceRequest (JSON; protobuf and gzip also accepted)",
        ("application/json", "application/x-protobuf"),
    ),
)
async def export_traces(request: Request) -> Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in (PROTOBUF, "application/json"):
        return JSON({"detail": "Content-Type must be application/x-protobuf or application/json"}, status_code=415)
    state = app_state(request)
    body = await raw_body(request)
    try:
        body = _decompress(body, request.headers.get("content-encoding", "").lower(), state.settings.max_body_bytes)
        parsed = otlp.parse_protobuf(body) if content_type == PROTOBUF else otlp.parse_json(body)
    except otlp.UndecodableRequest as exc:
        return JSON({"detail": str(exc)}, status_code=400)
    batch, rejected, reason = otlp.adapt(parsed, state.prices)
    if len(batch.events) > state.settings.max_batch_items:
        raise TooLarge(f"batch of {len(batch.events)} spans exceeds the limit of {state.settings.max_batch_items}")
    await state.writer.write(principal(request).tenant_id, batch)
    response = ExportTraceServiceResponse()
    if rejected:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = reason
    if content_type == PROTOBUF:
        return Response(response.SerializeToString(), media_type=PROTOBUF)
    return JSON(json_format.MessageToDict(response))
