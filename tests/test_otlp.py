"""OTLP/HTTP traces: the real SDK exporter against a real server, JSON, gzip, partial success, errors."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ingest.prices import PriceTable
from tests.conftest import Tenant
from tests.otel_traces import emit_agent_trace
from tests.process import ServerProcess

TRACE = """query($id: ID!) { execution(id: $id) { name kind status spanCount
  usage { inputTokens outputTokens byModel { model } } cost { value unit }
  spans(first: 20) { edges { node { name kind status parentId inputs outputs attributes
    usage { inputTokens outputTokens byModel { model } } cost { value unit source }
    error { message code stacktrace } } } } } }"""


class Recording(SpanExporter):
    """Passes spans to the real exporter and keeps its results."""

    def __init__(self, exporter: SpanExporter) -> None:
        self.exporter = exporter
        self.results: list[SpanExportResult] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.results.append(self.exporter.export(spans))
        return self.results[-1]


class Collect(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def protobuf_body() -> tuple[str, bytes, list[ReadableSpan]]:
    collect = Collect()
    trace_id = emit_agent_trace(collect)
    return trace_id, encode_spans(collect.spans).SerializeToString(), collect.spans


def check_trace(execution: dict, service: str = "support-agent") -> None:
    assert (execution["name"], execution["kind"], execution["status"], execution["spanCount"]) == (
        "agent run", "AGENT", "SUCCEEDED", 5,
    )  # fmt: skip
    spans = {e["node"]["name"]: e["node"] for e in execution["spans"]["edges"]}
    root, plan, tool, chat, notify = (spans[n] for n in ("agent run", "plan", "lookup_order", "chat claude", "notify"))
    assert root["inputs"] == {"question": "where is my order?"} and root["outputs"] == "your order has shipped"
    assert root["attributes"]["session.id"] == "sess-42"
    assert root["attributes"]["otel"]["resource"]["service.name"] == service
    assert root["attributes"]["otel"]["scope"] == {"name": "tests.agent", "version": "1.0"}
    assert (plan["kind"], plan["inputs"], plan["outputs"]) == ("LLM", "plan the answer", "look up the order")
    assert plan["usage"] == {"inputTokens": 1000, "outputTokens": 200, "byModel": [{"model": "gpt-4o-2024-08-06"}]}
    # gpt-4o: 2.50 / 10.00 USD per million tokens
    assert plan["cost"] == [{"value": pytest.approx(0.0045), "unit": "USD", "source": "price_table:gpt-4o"}]
    assert plan["attributes"]["llm.invocation_parameters"] == '{"temperature": 0}'
    assert "llm.token_count.prompt" not in plan["attributes"]
    assert tool["kind"] == "TOOL" and tool["attributes"]["otel"]["events"][0]["name"] == "cache.miss"
    assert chat["kind"] == "LLM" and chat["outputs"] == [{"role": "assistant", "content": "shipped"}]
    assert chat["cost"][0]["source"] == "price_table:claude-sonnet-4"
    assert chat["cost"][0]["value"] == pytest.approx(2000 * 3 / 1e6 + 100 * 15 / 1e6)
    assert notify["status"] == "FAILED" and notify["kind"] == "TOOL"
    assert notify["error"]["message"] == "mail server timed out" and notify["error"]["code"] == "TimeoutError"
    assert "Traceback" in notify["error"]["stacktrace"]
    assert all(s["parentId"] == root_id(execution) for n, s in spans.items() if n != "agent run")
    assert execution["usage"]["inputTokens"] == 3000
    assert execution["cost"][0]["value"] == pytest.approx(0.0045 + 0.0075)


def root_id(execution: dict) -> str:
    """The one parent every non-root span has (spans are not asked for their own id here)."""
    parents = {e["node"]["parentId"] for e in execution["spans"]["edges"] if e["node"]["parentId"]}
    assert len(parents) == 1
    return parents.pop()


def test_real_sdk_exporter_against_the_server(tmp_path: Path, database_url: str) -> None:
    server = ServerProcess(tmp_path / "otlp", "th_otlp_key", {"TRACEHOUSE_DATABASE_URL": database_url})
    server.start()
    try:
        for compression in (Compression.NoCompression, Compression.Gzip):
            exporter = OTLPSpanExporter(endpoint=f"{server.url}/v1/traces", headers={"X-API-Key": "th_otlp_key"},
                                        compression=compression)  # fmt: skip
            recording = Recording(exporter)
            trace_id = emit_agent_trace(recording)
            assert recording.results and all(r == SpanExportResult.SUCCESS for r in recording.results)
            with server.client() as client:
                body = client.post("/graphql", json={"query": TRACE, "variables": {"id": trace_id}}).json()
            assert "errors" not in body, body
            check_trace(body["data"]["execution"])
        # the same agent trace in the JSON encoding, to the same process
        _, _, spans = protobuf_body()
        document = otlp_json(spans)
        json_trace = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]
        with server.client() as client:
            response = client.post("/v1/traces", json=document)
            assert response.status_code == 200 and response.json() == {}
            body = client.post("/graphql", json={"query": TRACE, "variables": {"id": json_trace}}).json()
        check_trace(body["data"]["execution"])
    finally:
        server.stop()


def otlp_json(spans: list[ReadableSpan]) -> dict:
    """The same export as OTLP/JSON: hex ids, lowerCamelCase, 64-bit integers as strings."""
    from google.protobuf import json_format

    body = json_format.MessageToDict(encode_spans(spans))
    for rs in body["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for span in ss["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = __import__("base64").b64decode(span[key]).hex()
    return body


async def test_json_encoding_and_idempotency(tenant: Tenant) -> None:
    _, _, spans = protobuf_body()
    body = otlp_json(spans)
    trace_id = body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]
    for _ in range(2):  # sent twice, stored once
        response = await tenant.http.post("/v1/traces", json=body)
        assert response.status_code == 200 and response.json() == {}
    data = await tenant.gql_data(TRACE, {"id": trace_id})
    check_trace(data["execution"])


async def test_protobuf_gzip_partial_success(tenant: Tenant) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
    )

    trace_id, raw, _ = protobuf_body()
    request = ExportTraceServiceRequest.FromString(raw)
    bad = request.resource_spans[0].scope_spans[0].spans.add()
    bad.CopyFrom(request.resource_spans[0].scope_spans[0].spans[0])
    bad.span_id = b"\x00" * 8
    headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}
    response = await tenant.http.post("/v1/traces", content=gzip.compress(request.SerializeToString()), headers=headers)
    assert response.status_code == 200 and response.headers["content-type"] == "application/x-protobuf"
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 1
    assert "spans[5]: spanId must be 8 non-zero bytes" in answer.partial_success.error_message
    assert (await tenant.gql_data(TRACE, {"id": trace_id}))["execution"]["spanCount"] == 5


async def test_bad_requests(tenant: Tenant, other_tenant: Tenant, anon: httpx.AsyncClient) -> None:
    trace_id, raw, _ = protobuf_body()
    protobuf = {"Content-Type": "application/x-protobuf"}
    assert (await tenant.http.post("/v1/traces", content=b"\xff\xff\xff", headers=protobuf)).status_code == 400
    assert (await tenant.http.post("/v1/traces", content=b'{"resourceSpans": 5}',
                                   headers={"Content-Type": "application/json"})).status_code == 400  # fmt: skip
    assert (
        await tenant.http.post("/v1/traces", content=raw, headers={"Content-Type": "text/plain"})
    ).status_code == 415
    bad_gzip = {**protobuf, "Content-Encoding": "gzip"}
    assert (await tenant.http.post("/v1/traces", content=raw, headers=bad_gzip)).status_code == 400
    assert (await anon.post("/v1/traces", content=raw, headers=protobuf)).status_code == 401
    assert (await tenant.http.post("/v1/traces", content=raw, headers=protobuf)).status_code == 200
    assert (await other_tenant.gql_data(TRACE, {"id": trace_id}))["execution"] is None


def test_price_table_override_and_matching(tmp_path: Path) -> None:
    table = PriceTable()
    assert table.match("openai/gpt-4o-mini-2024-07-18") == "gpt-4o-mini"
    assert table.match("unknown-model") is None
    override = tmp_path / "prices.json"
    override.write_text(json.dumps({"my-model": {"input": 1, "output": 2}, "gpt-4o": {"input": 5, "output": 20}}))
    custom = PriceTable.load(str(override))
    usage = {"model": "gpt-4o", "input_tokens": 1_000_000, "output_tokens": 0, "cache_read_input_tokens": 0,
             "cache_creation_input_tokens": 0}  # fmt: skip
    assert custom.cost(usage) == {"value": 5.0, "unit": "USD", "source": "price_table:gpt-4o"}
    assert custom.cost({**usage, "model": "my-model"})["value"] == 1.0
