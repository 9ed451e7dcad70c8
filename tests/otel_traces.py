"""An agent trace made with the real opentelemetry-sdk: a chain, LLM calls (OpenInference and GenAI
conventions), a tool call, and a failing step."""

from __future__ import annotations

import json

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Status, StatusCode


def emit_agent_trace(exporter: SpanExporter, service: str = "support-agent") -> str:
    """Export one agent trace through `exporter`; returns its trace id (hex)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service, "deployment.environment": "test"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.agent", "1.0")
    with tracer.start_as_current_span("agent run") as root:
        root.set_attribute("openinference.span.kind", "AGENT")
        root.set_attribute("input.value", json.dumps({"question": "where is my order?"}))
        root.set_attribute("input.mime_type", "application/json")
        root.set_attribute("session.id", "sess-42")
        with tracer.start_as_current_span("plan") as llm:
            llm.set_attribute("openinference.span.kind", "LLM")
            llm.set_attribute("llm.model_name", "gpt-4o-2024-08-06")
            llm.set_attribute("llm.token_count.prompt", 1000)
            llm.set_attribute("llm.token_count.completion", 200)
            llm.set_attribute("input.value", "plan the answer")
            llm.set_attribute("output.value", "look up the order")
            llm.set_attribute("llm.invocation_parameters", '{"temperature": 0}')
        with tracer.start_as_current_span("lookup_order") as tool:
            tool.set_attribute("gen_ai.operation.name", "execute_tool")
            tool.set_attribute("gen_ai.tool.name", "lookup_order")
            tool.add_event("cache.miss", {"key": "order-7"})
        with tracer.start_as_current_span("chat claude") as chat:
            chat.set_attribute("gen_ai.operation.name", "chat")
            chat.set_attribute("gen_ai.request.model", "claude-sonnet-4")
            chat.set_attribute("gen_ai.usage.input_tokens", 2000)
            chat.set_attribute("gen_ai.usage.output_tokens", 100)
            chat.set_attribute("gen_ai.output.messages", json.dumps([{"role": "assistant", "content": "shipped"}]))
        with tracer.start_as_current_span("notify") as failing:
            failing.set_attribute("openinference.span.kind", "TOOL")
            try:
                raise TimeoutError("mail server timed out")
            except TimeoutError as exc:
                failing.record_exception(exc)
                failing.set_status(Status(StatusCode.ERROR, "mail server timed out"))
        root.set_attribute("output.value", "your order has shipped")
        trace_id = format(root.get_span_context().trace_id, "032x")
    provider.shutdown()
    return trace_id
