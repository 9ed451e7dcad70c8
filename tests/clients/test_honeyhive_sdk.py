"""The HoneyHive SDK (honeyhive 1.7), used as its docs show, against `tracehouse serve` with only
`server_url` changed: the session, a traced chain of tool and model calls, span and session enrichment,
read back through GraphQL and through the Vellum detail path (validated by the Vellum SDK's own models)."""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from honeyhive import HoneyHive, HoneyHiveTracer, enrich_span, trace
from honeyhive.models import EventFilter, PostEventBatchRequest, PostEventRequest, UpdateEventRequest
from vellum import Vellum, VellumEnvironment

from tests.clients.sdk_server import KEY, gql, wait_for
from tests.process import ServerProcess

EXECUTION = """query($id: ID!) { execution(id: $id) { id name status spanCount usage { inputTokens outputTokens }
  cost { value unit source }
  rootSpans { id name kind attributes children { name kind status inputs outputs
    children { name kind status inputs outputs attributes usage { inputTokens outputTokens } cost { value source } } } }
} }"""


_tracers: list[HoneyHiveTracer] = []


@pytest.fixture(autouse=True, scope="module")
def _shut_tracers_down() -> Iterator[None]:
    """Shut the module's tracers down after its last test (a tracer shut down earlier leaves the next one
    dead: OpenTelemetry's provider is process-wide), so no exporter thread goes on exporting later tests'
    spans to a stopped server."""
    yield
    for tracer in _tracers:
        tracer.shutdown()


def _traced_chain(server: ServerProcess) -> HoneyHiveTracer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # `project=` is deprecated but still documented
        tracer = HoneyHiveTracer.init(api_key=KEY, project="support", server_url=server.url,
                                      session_name="support-chat", source="test")  # fmt: skip
    _tracers.append(tracer)

    @trace(event_type="tool", event_name="lookup_order")
    def lookup_order(order_id: str) -> dict[str, str]:
        return {"order": order_id, "status": "shipped"}

    @trace(event_type="model", event_name="answer")
    def answer(question: str, facts: dict[str, str]) -> str:
        enrich_span(config={"model": "gpt-4o"}, metadata={"prompt_tokens": 1000, "completion_tokens": 200},
                    feedback={"thumbs_up": True}, metrics={"relevance": 0.9})  # fmt: skip
        return f"your order {facts['order']} has {facts['status']}"

    @trace(event_type="chain", event_name="support_turn")
    def support_turn(question: str) -> str:
        return answer(question, lookup_order("o-7"))

    assert support_turn("where is my order?") == "your order o-7 has shipped"
    tracer.enrich_session(metadata={"channel": "web"}, feedback={"rating": 4}, metrics={"turns": 1})
    tracer.enrich_session(metadata={"plan": "pro"}, feedback={"rating": 5})  # merges, later wins
    assert tracer.flush()
    return tracer


def test_honeyhive_tracer_session_chain_and_enrichment(server: ServerProcess) -> None:
    tracer = _traced_chain(server)
    session_id = tracer.session_id

    def complete() -> dict[str, Any] | None:
        execution = gql(server, EXECUTION, {"id": session_id})["execution"]
        return execution if execution and execution["spanCount"] == 4 else None

    execution = wait_for(complete)
    (session,) = execution["rootSpans"]  # the session /session/start made, not a fallback id of the SDK's
    assert (session["id"], session["name"], session["kind"]) == (session_id, "support-chat", "SESSION")
    assert session["attributes"]["metadata"] == {"channel": "web", "plan": "pro"}
    assert session["attributes"]["feedback"] == {"rating": 5}
    assert session["attributes"]["metrics"] == {"turns": 1}
    (chain,) = session["children"]
    assert (chain["name"], chain["kind"], chain["status"]) == ("support_turn", "CHAIN", "SUCCEEDED")
    assert chain["inputs"] == {"question": "where is my order?"}
    assert chain["outputs"] == {"result": "your order o-7 has shipped"}
    children = {c["name"]: c for c in chain["children"]}
    tool, model = children["lookup_order"], children["answer"]
    assert tool["kind"] == "TOOL" and tool["inputs"] == {"order_id": "o-7"}
    assert tool["outputs"] == {"result": {"order": "o-7", "status": "shipped"}}
    assert model["kind"] == "MODEL" and model["status"] == "SUCCEEDED"
    assert model["attributes"]["feedback"] == {"thumbs_up": True}
    assert model["attributes"]["metrics"] == {"relevance": 0.9}
    assert model["attributes"]["config"] == {"model": "gpt-4o"}
    assert model["usage"] == {"inputTokens": 1000, "outputTokens": 200}
    # no cost reported: the shipped price table prices gpt-4o (2.50 / 10.00 USD per million tokens)
    assert model["cost"] == [{"value": pytest.approx(0.0045), "source": "price_table:gpt-4o"}]
    assert execution["usage"] == {"inputTokens": 1000, "outputTokens": 200}

    # the same execution through the Vellum detail path, validated by the Vellum SDK's own models
    vellum = Vellum(api_key=KEY, environment=VellumEnvironment(default=server.url, predict=server.url,
                                                               documents=server.url))  # fmt: skip
    detail = vellum.workflow_executions.retrieve_workflow_execution_detail(session_id)
    assert detail.span_id == session_id and detail.end is None  # a HoneyHive session has no end of its own
    names = {s.attributes.label: s.name for s in detail.spans}
    assert names == {"support_turn": "node.execution", "lookup_order": "node.execution", "answer": "node.execution"}
    assert json.loads(detail.model_dump_json())["usage_results"][0]["usage"][0]["ml_model_name"] == "gpt-4o"


def test_honeyhive_client_events_create_batch_and_update(server: ServerProcess) -> None:
    """The SDK's API client (`HoneyHive(...).sessions/events`), each call it makes for events."""
    client = HoneyHive(api_key=KEY, server_url=server.url)
    started = client.sessions.start({"session_name": "batch-run", "source": "test", "inputs": {"q": "hi"}})
    session_id = started.session_id
    assert started.event_id and started.org_id and started.workspace_id and started.project_id

    created = client.events.create(PostEventRequest(event={
        "event_type": "tool", "event_name": "search", "session_id": session_id, "inputs": {"q": "hi"},
        "outputs": {"hits": 3}, "start_time": 1_740_830_400_000, "end_time": 1_740_830_400_500}))  # fmt: skip
    assert created.success and created.event_id

    batch = client.events.create_batch(PostEventBatchRequest(events=[
        {"event_type": "model", "event_name": "llm", "session_id": session_id, "inputs": {"p": "hi"},
         "config": {"model": "gpt-4o"}, "metadata": {"prompt_tokens": 10, "completion_tokens": 2},
         "start_time": 1_740_830_401_000, "end_time": 1_740_830_401_400},
        {"event_type": "chain", "event_name": "post", "session_id": session_id, "inputs": {},
         "start_time": 1_740_830_402_000},
    ]))  # fmt: skip
    assert batch.success and len(batch.event_ids) == 2
    running = batch.event_ids[1]
    client.events.update(UpdateEventRequest(event_id=running, outputs={"done": True}, metrics={"score": 1},
                                            end_time=1_740_830_403_000))  # fmt: skip

    def complete() -> dict[str, Any] | None:
        execution = gql(server, EXECUTION, {"id": session_id})["execution"]
        return execution if execution and execution["spanCount"] == 4 else None

    (session,) = wait_for(complete)["rootSpans"]
    children = {c["name"]: c for c in session["children"]}
    assert set(children) == {"search", "llm", "post"}
    assert children["search"]["outputs"] == {"hits": 3} and children["search"]["status"] == "SUCCEEDED"
    assert (children["post"]["status"], children["post"]["outputs"]) == ("SUCCEEDED", {"done": True})

    with pytest.raises(Exception, match="404"):
        client.events.update(UpdateEventRequest(event_id=str(uuid.uuid4()), metrics={"x": 1}))


def test_honeyhive_client_reads_a_sessions_events_back(server: ServerProcess) -> None:
    """The SDK's reads (`events.export`, `list`, `get_by_session_id`; all `POST /v1/events/export`), with its
    own response models, for a session its tracer wrote."""
    tracer = _traced_chain(server)
    session_id = tracer.session_id
    client = HoneyHive(api_key=KEY, server_url=server.url)
    by_session = [EventFilter(field="session_id", operator="is", value=session_id, type="string")]

    exported = wait_for(lambda: (r := client.events.export(filters=by_session)).total_events == 4 and r)
    events = {e.event_name: e for e in exported.events}
    assert set(events) == {"support-chat", "support_turn", "lookup_order", "answer"}
    session, chain, tool, model = (events[n] for n in ("support-chat", "support_turn", "lookup_order", "answer"))
    assert (session.event_type, session.event_id, session.session_id, session.parent_id) == (
        "session", session_id, session_id, None,
    )  # fmt: skip
    assert session.metadata == {"channel": "web", "plan": "pro"} and session.feedback == {"rating": 5}
    assert (chain.event_type, chain.parent_id) == ("chain", session_id)
    assert tool.parent_id == chain.event_id and tool.inputs == {"order_id": "o-7"} and tool.event_type == "tool"
    assert model.event_type == "model" and model.config == {"model": "gpt-4o"} and model.metrics == {"relevance": 0.9}
    assert model.start_time and model.end_time
    assert model.duration == pytest.approx(model.end_time - model.start_time, abs=0.01)

    models = client.events.list({"filters": [*by_session, {"field": "event_type", "operator": "is",
                                                            "value": "model"}], "limit": 10})  # fmt: skip
    assert [e.event_name for e in models.events] == ["answer"] and models.totalEvents == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deprecated, still shipped
        ordered = client.events.get_by_session_id(session_id)
    assert ordered.events[0].event_name == "support-chat" and len(ordered.events) == 4
    paged = client.events.export(filters=by_session, limit=3, page=2, projections=["event_id", "event_name"])
    assert paged.total_events == 4 and len(paged.events) == 1
    assert set(paged.events[0].model_dump(exclude_none=True)) <= {"event_id", "event_name"}
    with pytest.raises(Exception, match="422"):  # a filter it cannot apply is refused, naming it
        client.events.export(filters=[EventFilter(field="metadata.cost", operator="greater than", value="1")])
