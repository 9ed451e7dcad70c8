"""The Vellum SDK (vellum-ai 1.14), used as its docs show, against `tracehouse serve` with only the
environment's URL changed: it writes a workflow's events and reads its detail while it runs, after it
ends, after it fails, and reads executions written by OTLP and by HoneyHive; every answer must pass the
SDK's own validation (it raises otherwise)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from vellum import (
    NodeExecutionFulfilledBody,
    NodeExecutionFulfilledEvent,
    NodeExecutionInitiatedBody,
    NodeExecutionInitiatedEvent,
    Vellum,
    VellumCodeResourceDefinition,
    VellumEnvironment,
    VellumSdkError,
    WorkflowExecutionFulfilledBody,
    WorkflowExecutionFulfilledEvent,
    WorkflowExecutionInitiatedBody,
    WorkflowExecutionInitiatedEvent,
    WorkflowExecutionRejectedBody,
    WorkflowExecutionRejectedEvent,
    WorkflowParentContext,
)
from vellum.core.api_error import ApiError

from tests.clients.sdk_server import KEY
from tests.otel_traces import emit_agent_trace
from tests.process import ServerProcess

WORKFLOW = VellumCodeResourceDefinition(name="SupportBot", module=["bots", "support"], id=str(uuid.uuid4()))
NODE = VellumCodeResourceDefinition(name="Answer", module=["bots", "support", "answer"], id=str(uuid.uuid4()))
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _client(server: ServerProcess) -> Vellum:
    return Vellum(api_key=KEY, environment=VellumEnvironment(default=server.url, predict=server.url,
                                                             documents=server.url))  # fmt: skip


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _start(trace: str) -> list[object]:
    parent = WorkflowParentContext(workflow_definition=WORKFLOW, span_id="root-" + trace)
    return [
        WorkflowExecutionInitiatedEvent(id=str(uuid.uuid4()), timestamp=_at(0), trace_id=trace, span_id=parent.span_id,
                                        body=WorkflowExecutionInitiatedBody(workflow_definition=WORKFLOW,
                                                                            inputs={"question": "where?"})),
        NodeExecutionInitiatedEvent(id=str(uuid.uuid4()), timestamp=_at(1), trace_id=trace, span_id="node-" + trace,
                                    parent=parent, body=NodeExecutionInitiatedBody(node_definition=NODE,
                                                                                   inputs={"n": 1})),
    ]  # fmt: skip


def test_vellum_sdk_writes_a_workflow_and_reads_it_running_finished_and_failed(server: ServerProcess) -> None:
    client = _client(server)
    trace = str(uuid.uuid4())
    assert client.events.create(request=_start(trace)).count == 2

    running = client.workflow_executions.retrieve_workflow_execution_detail(trace)
    assert running.end is None and running.spans == []  # spans are listed once they end
    assert [(v.name, v.value) for v in running.inputs] == [("question", "where?")]

    node_done = NodeExecutionFulfilledEvent(id=str(uuid.uuid4()), timestamp=_at(2), trace_id=trace,
                                            span_id="node-" + trace,
                                            body=NodeExecutionFulfilledBody(node_definition=NODE,
                                                                            outputs={"text": "shipped"}))  # fmt: skip
    assert client.events.create(request=node_done).count == 1
    partly = client.workflow_executions.retrieve_workflow_execution_detail(trace)
    (node,) = partly.spans
    assert (node.name, node.attributes.node_id, node.parent_span_id) == ("node.execution", NODE.id, "root-" + trace)
    # the fulfilled event said nothing of the parent: the initiated event's parent context is kept
    assert [e.name for e in node.events] == ["node.execution.initiated", "node.execution.fulfilled"]
    assert node.events[0].parent is not None and node.events[0].parent.span_id == "root-" + trace

    done = WorkflowExecutionFulfilledEvent(id=str(uuid.uuid4()), timestamp=_at(3), trace_id=trace,
                                           span_id="root-" + trace,
                                           body=WorkflowExecutionFulfilledBody(
                                               workflow_definition=WORKFLOW, outputs={"answer": "shipped"}))
    client.events.create(request=done)
    finished = client.workflow_executions.retrieve_workflow_execution_detail(trace)
    assert finished.end == _at(3) and [v.value for v in finished.outputs] == ["shipped"]
    root = finished.spans[0]
    assert (root.name, root.attributes.workflow_id, root.attributes.label) == ("workflow.execution", WORKFLOW.id,
                                                                               "SupportBot")  # fmt: skip

    failed_trace = str(uuid.uuid4())
    rejected = WorkflowExecutionRejectedEvent(id=str(uuid.uuid4()), timestamp=_at(5), trace_id=failed_trace,
                                              span_id="root-" + failed_trace,
                                              body=WorkflowExecutionRejectedBody(workflow_definition=WORKFLOW,
                                                  error=VellumSdkError(message="provider down",
                                                                       code="LLM_PROVIDER")))  # fmt: skip
    client.events.create(request=[*_start(failed_trace), rejected])
    failed = client.workflow_executions.retrieve_workflow_execution_detail(failed_trace)
    assert failed.error is not None and (failed.error.message, failed.error.code) == ("provider down", "LLM_PROVIDER")
    assert failed.end == _at(5)

    with pytest.raises(ApiError) as missing:
        client.workflow_executions.retrieve_workflow_execution_detail(str(uuid.uuid4()))
    assert missing.value.status_code == 404


def test_vellum_sdk_reads_executions_written_by_otlp_and_honeyhive(server: ServerProcess) -> None:
    client = _client(server)
    exporter = OTLPSpanExporter(endpoint=f"{server.url}/v1/traces", headers={"X-API-Key": KEY})
    trace_id = emit_agent_trace(exporter)
    detail = client.workflow_executions.retrieve_workflow_execution_detail(trace_id)
    assert detail.spans[0].name == "workflow.execution" and detail.spans[0].attributes.label == "agent run"
    assert {s.name for s in detail.spans[1:]} == {"node.execution"} and len(detail.spans) == 5
    assert detail.usage_results and detail.usage_results[0].cost

    session = str(uuid.uuid4())
    with server.client() as http:
        events = [
            {"event_type": "session", "session_id": session, "event_name": "chat", "inputs": {"q": "hi"},
             "start_time": 1_740_830_400_000, "end_time": 1_740_830_401_000},
            {"event_type": "model", "session_id": session, "event_name": "llm", "inputs": {"p": "hi"},
             "outputs": {"text": "yo"}, "config": {"model": "gpt-4o"}, "error": "rate limited",
             "start_time": 1_740_830_400_100, "end_time": 1_740_830_400_900},
        ]  # fmt: skip
        for event in events:
            assert http.post("/v1/events", json=event).status_code == 200
    detail = client.workflow_executions.retrieve_workflow_execution_detail(session)
    assert [(s.name, s.attributes.label) for s in detail.spans] == [("workflow.execution", "chat"),
                                                                    ("node.execution", "llm")]  # fmt: skip

