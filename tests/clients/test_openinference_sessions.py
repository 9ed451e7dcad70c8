"""OpenTelemetry with OpenInference's semantic conventions, exported by the real SDK to `tracehouse serve`:
the traces of one conversation carry `session.id` (on any of their spans) and are read back as that
session's executions; one span with a trace id that is not hex is that span's refusal, not the request's."""

from __future__ import annotations

import uuid

from openinference.semconv.trace import OpenInferenceSpanKindValues, SpanAttributes
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tests.clients.sdk_server import KEY, gql, wait_for
from tests.process import ServerProcess

SESSION = """query($s: String!) { executions(filter: {sessionId: $s}) { totalCount
  edges { node { id name sessionId spanCount } } } }"""
EXECUTION = "query($id: ID!) { execution(id: $id) { sessionId spanCount } }"


def _conversation(server: ServerProcess, session: str) -> list[str]:
    """Three turns of one chat, each its own trace; the session is on the root of the first, on a child of
    the second (as an instrumentation that sets it inside the agent does), and absent from the third."""
    exporter = OTLPSpanExporter(endpoint=f"{server.url}/v1/traces", headers={"X-API-Key": KEY})
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.openinference")
    traces = []
    for turn in range(3):
        with tracer.start_as_current_span(f"turn {turn}") as root:
            root.set_attribute(SpanAttributes.OPENINFERENCE_SPAN_KIND, OpenInferenceSpanKindValues.AGENT.value)
            if turn == 0:
                root.set_attribute(SpanAttributes.SESSION_ID, session)
            with tracer.start_as_current_span("llm") as llm:
                llm.set_attribute(SpanAttributes.OPENINFERENCE_SPAN_KIND, OpenInferenceSpanKindValues.LLM.value)
                if turn == 1:
                    llm.set_attribute(SpanAttributes.SESSION_ID, session)
            traces.append(format(root.get_span_context().trace_id, "032x"))
    provider.shutdown()
    return traces


def test_session_id_groups_a_conversations_traces(server: ServerProcess) -> None:
    session = f"chat-{uuid.uuid4()}"
    first, second, third = _conversation(server, session)
    found = wait_for(lambda: (d := gql(server, SESSION, {"s": session}))["executions"]["totalCount"] == 2 and d)
    executions = {e["node"]["id"]: e["node"] for e in found["executions"]["edges"]}
    assert set(executions) == {first, second}
    assert all(e["sessionId"] == session and e["spanCount"] == 2 for e in executions.values())
    assert gql(server, EXECUTION, {"id": third})["execution"] == {"sessionId": None, "spanCount": 2}


def test_a_span_with_a_trace_id_that_is_not_hex_is_refused_alone(server: ServerProcess) -> None:
    trace = uuid.uuid4().hex
    good = {"traceId": trace, "spanId": "00000000000000b1", "name": "ok", "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": "1700000001000000000"}  # fmt: skip
    bad = {**good, "traceId": "not-a-hex-trace-id", "spanId": "00000000000000b2", "name": "bad"}
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [good, bad]}]}]}
    with server.client() as client:
        response = client.post("/v1/traces", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["partialSuccess"]["rejectedSpans"] == "1"
    assert "spans[1]: traceId" in response.json()["partialSuccess"]["errorMessage"]
    assert gql(server, EXECUTION, {"id": trace})["execution"]["spanCount"] == 1
