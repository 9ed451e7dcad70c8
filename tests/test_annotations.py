"""Annotations: written by GraphQL `annotate`, HoneyHive `feedback`, Vellum actuals and OpenInference span
annotations; read on Execution and Span, filtered and averaged over time; tenant-scoped; a batch is stored
whole or not at all; the reads cost the same queries however many executions and spans carry them."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from resolvers.node_ids import encode
from server.state import AppState
from storage.postgres import keys
from tests.conftest import Tenant, make_tenant
from tests.test_query_counts import _count, assert_flat
from tests.traces import log_trace

NODE_IDS = """query($id: ID!) { execution(id: $id) { nodeId spans(first: 100) { edges { node { id nodeId } } } } }"""
ANNOTATE = """mutation($t: ID!, $n: String!, $s: AnnotationSource!, $score: Float, $label: String, $c: String,
  $m: JSON) { annotate(targetId: $t, name: $n, source: $s, score: $score, label: $label, comment: $c, metadata: $m) {
  id name score label comment source origin author metadata createdAt executionId spanId targetId } }"""
ANNOTATE_MANY = """mutation($a: [AnnotationInput!]!) { annotateMany(annotations: $a) { id name spanId } }"""
READ = """query($id: ID!) { execution(id: $id) {
  annotations { name score label comment source origin author spanId metadata createdAt }
  spans(first: 100) { edges { node { id annotations { name score label comment source origin spanId } } } } } }"""
FILTERED = """query($f: AnnotationFilter) { executions(filter: {annotation: $f}, first: 100) {
  totalCount edges { node { id } } } }"""
SCORES = """query($n: String!, $from: DateTime!, $to: DateTime!, $b: TimeBucket!, $s: AnnotationSource) {
  annotationScores(name: $n, from: $from, to: $to, bucket: $b, source: $s) {
    name bucket points { bucket count scored average min max } } }"""


async def node_ids(tenant: Tenant, execution_id: str) -> tuple[str, dict[str, str]]:
    """The execution's nodeId and its spans' by span id."""
    ex = (await tenant.gql_data(NODE_IDS, {"id": execution_id}))["execution"]
    return ex["nodeId"], {e["node"]["id"]: e["node"]["nodeId"] for e in ex["spans"]["edges"]}


async def read(tenant: Tenant, execution_id: str) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    ex = (await tenant.gql_data(READ, {"id": execution_id}))["execution"]
    return ex["annotations"], {e["node"]["id"]: e["node"]["annotations"] for e in ex["spans"]["edges"]}


async def filtered(tenant: Tenant, **f: Any) -> list[str]:
    data = await tenant.gql_data(FILTERED, {"f": f})
    ids = [e["node"]["id"] for e in data["executions"]["edges"]]
    assert data["executions"]["totalCount"] == len(ids)
    return sorted(ids)


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("data") is None or not any(body["data"].values()), body
    (error,) = body["errors"]
    return error


async def test_annotate_a_span_and_an_execution_and_read_them_back(tenant: Tenant) -> None:
    await log_trace(tenant, "ex-a", count=3, depth=2)
    execution, spans = await node_ids(tenant, "ex-a")
    made = (await tenant.gql_data(ANNOTATE, {"t": spans["s1"], "n": "correctness", "s": "LLM", "score": 0.25,
                                             "label": "wrong", "c": "cites the wrong order",
                                             "m": {"judge": "gpt-4o"}}))["annotate"]  # fmt: skip
    assert made["name"] == "correctness" and made["score"] == 0.25 and made["label"] == "wrong"
    assert (made["source"], made["origin"], made["executionId"], made["spanId"]) == ("LLM", "graphql", "ex-a", "s1")
    assert made["targetId"] == spans["s1"] and made["metadata"] == {"judge": "gpt-4o"}
    assert made["author"].startswith("api_key:")
    on_execution = (await tenant.gql_data(ANNOTATE, {"t": execution, "n": "rating", "s": "HUMAN", "score": 4}))
    assert on_execution["annotate"]["spanId"] is None and on_execution["annotate"]["targetId"] == execution
    await tenant.gql_data(ANNOTATE, {"t": execution, "n": "resolved", "s": "CODE", "label": "yes"})

    own, by_span = await read(tenant, "ex-a")
    assert [(a["name"], a["score"], a["label"], a["source"]) for a in own] == [
        ("rating", 4.0, None, "HUMAN"), ("resolved", None, "yes", "CODE")]  # fmt: skip
    assert [(a["name"], a["comment"], a["spanId"]) for a in by_span["s1"]] == [
        ("correctness", "cites the wrong order", "s1")]  # fmt: skip
    assert by_span["s0"] == [] and by_span["s2"] == []
    node = await tenant.gql_data(
        "query($id: ID!) { node(id: $id) { ... on Span { annotations { name nodeId } } } }", {"id": spans["s1"]}
    )
    (annotation,) = node["node"]["annotations"]
    refetched = await tenant.gql_data("query($id: ID!) { node(id: $id) { __typename ... on Annotation { name } } }",
                                      {"id": annotation["nodeId"]})  # fmt: skip
    assert refetched["node"] == {"__typename": "Annotation", "name": "correctness"}
    not_a_target = error_of(await tenant.gql(ANNOTATE, {"t": annotation["nodeId"], "n": "r", "s": "HUMAN",
                                                        "score": 1}))  # fmt: skip
    assert not_a_target["extensions"] == {"code": "BAD_USER_INPUT", "field": "targetId"}


async def test_annotate_refuses_bad_input_and_stores_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    await log_trace(tenant, "ex-b", count=2, depth=2)
    execution, spans = await node_ids(tenant, "ex-b")

    nothing = error_of(await tenant.gql(ANNOTATE, {"t": execution, "n": "rating", "s": "HUMAN"}))
    assert nothing["extensions"]["code"] == "BAD_USER_INPUT" and "at least one of" in nothing["message"]
    garbled = error_of(await tenant.gql(ANNOTATE, {"t": "not-a-node-id", "n": "r", "s": "HUMAN", "score": 1}))
    assert garbled["extensions"] == {"code": "BAD_USER_INPUT", "field": "targetId"}
    event_id = (await tenant.gql_data('mutation { ingestEvents(events: [{name: "x.y"}]) { eventIds } }'))
    event = await tenant.gql_data("query($id: ID!) { event(id: $id) { nodeId } }",
                                  {"id": event_id["ingestEvents"]["eventIds"][0]})  # fmt: skip
    wrong_type = error_of(await tenant.gql(ANNOTATE, {"t": event["event"]["nodeId"], "n": "r", "s": "HUMAN",
                                                      "score": 1}))  # fmt: skip
    assert wrong_type["extensions"]["code"] == "BAD_USER_INPUT" and "Span or an Execution" in wrong_type["message"]
    too_big = error_of(await tenant.gql(ANNOTATE, {"t": execution, "n": "r", "s": "HUMAN", "score": 1e300}))
    assert too_big["extensions"] == {"code": "BAD_USER_INPUT", "field": "score"}
    blank = error_of(await tenant.gql(ANNOTATE, {"t": execution, "n": " ", "s": "HUMAN", "score": 1}))
    assert blank["extensions"] == {"code": "BAD_USER_INPUT", "field": "name"}
    not_object = error_of(await tenant.gql(ANNOTATE, {"t": execution, "n": "r", "s": "HUMAN", "score": 1, "m": [1]}))
    assert not_object["extensions"] == {"code": "BAD_USER_INPUT", "field": "metadata"}

    # Another tenant's execution and span: not found, as ones that never existed.
    for target in (execution, spans["s1"]):
        missing = error_of(await other_tenant.gql(ANNOTATE, {"t": target, "n": "r", "s": "HUMAN", "score": 1}))
        assert missing["extensions"] == {"code": "NOT_FOUND", "field": "targetId"}
    # One bad item refuses the batch: the good ones before it are not stored.
    good = [{"targetId": execution, "name": "ok", "source": "HUMAN", "score": 1},
            {"targetId": spans["s1"], "name": "ok", "source": "HUMAN", "label": "fine"}]  # fmt: skip
    unknown_span = {"targetId": encode("Span", "ex-b", "s9"), "name": "ok", "source": "HUMAN", "score": 1}
    failed = error_of(await tenant.gql(ANNOTATE_MANY, {"a": [*good, unknown_span]}))
    assert failed["extensions"] == {"code": "NOT_FOUND", "field": "annotations[2].targetId"}
    empty = {"targetId": execution, "name": "x", "source": "HUMAN"}
    assert error_of(await tenant.gql(ANNOTATE_MANY, {"a": [*good, empty]}))["extensions"] == {
        "code": "BAD_USER_INPUT", "field": "annotations[2]"}  # fmt: skip
    assert await read(tenant, "ex-b") == ([], {"s0": [], "s1": []})

    made = (await tenant.gql_data(ANNOTATE_MANY, {"a": good}))["annotateMany"]
    assert [(a["name"], a["spanId"]) for a in made] == [("ok", None), ("ok", "s1")]


async def test_a_read_only_key_cannot_annotate(app: Any, state: AppState, tenant: Tenant) -> None:
    await log_trace(tenant, "ex-r", count=1, depth=1)
    execution, _ = await node_ids(tenant, "ex-r")
    key = await keys.create_key(state.pg, tenant.name, ("read",))
    response = await tenant.http.post("/graphql", headers={"X-API-Key": key},
                                      json={"query": ANNOTATE, "variables": {"t": execution, "n": "r", "s": "HUMAN",
                                                                             "score": 1}})  # fmt: skip
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for path, body in (("/v1/span_annotations", {"data": []}),
                       ("/v1/submit-workflow-execution-actuals", {"execution_id": "ex-r", "actuals": []})):  # fmt: skip
        assert (await tenant.http.post(path, json=body, headers={"X-API-Key": key})).status_code == 403
    assert await read(tenant, "ex-r") == ([], {"s0": []})


async def test_honeyhive_feedback_becomes_annotations(tenant: Tenant) -> None:
    session = str(uuid.uuid4())
    created = await tenant.http.post("/v1/events", json={
        "event_type": "session", "session_id": session, "event_name": "chat", "inputs": {"q": "hi"},
        "feedback": {"rating": 4, "comment": "quick answer", "thumbs_up": True, "tags": ["a"], "none": None}})
    assert created.status_code == 200, created.text
    model = await tenant.http.post(f"/session/{session}/event", json={
        "event_type": "model", "event_id": "m-1", "event_name": "llm", "inputs": {"p": "hi"},
        "outputs": {"text": "yo"}, "feedback": {"accuracy": 0.5, "verdict": "partly right"}})
    assert model.status_code == 200, model.text
    own, by_span = await read(tenant, session)
    assert sorted((a["name"], a["score"], a["label"], a["comment"]) for a in own) == [
        ("comment", None, None, "quick answer"), ("rating", 4.0, None, None), ("thumbs_up", None, "true", None)]
    assert {a["source"] for a in own} == {"HUMAN"} and {a["origin"] for a in own} == {"honeyhive"}
    assert sorted((a["name"], a["score"], a["label"]) for a in by_span["m-1"]) == [
        ("accuracy", 0.5, None), ("verdict", None, "partly right")]  # fmt: skip

    # `PUT /events` (the SDK's enrich_session) merges feedback key by key: the rating is replaced, not added.
    assert (await tenant.http.put("/events", json={"event_id": session, "feedback": {"rating": 5}})).status_code == 200
    own, _ = await read(tenant, session)
    assert sorted((a["name"], a["score"]) for a in own if a["score"] is not None) == [("rating", 5.0)]
    assert len(own) == 3
    # Feedback that cannot be stored refuses the whole event (422 naming the key), which is not stored.
    refused = await tenant.http.post("/v1/events", json={
        "event_type": "model", "event_id": "m-big", "session_id": session, "inputs": {}, "feedback": {"x": 1e300}})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "feedback", "x"]
    assert "m-big" not in (await read(tenant, session))[1]


async def test_vellum_actuals_become_annotations_of_the_execution(tenant: Tenant, other_tenant: Tenant) -> None:
    await log_trace(tenant, "ex-v", count=2, depth=2)
    at = datetime(2025, 6, 1, 12, 30, tzinfo=UTC)
    body = {"execution_id": "ex-v", "actuals": [
        {"output_key": "answer", "output_type": "STRING", "quality": 0.25, "desired_output_value": "shipped",
         "timestamp": at.timestamp()},
        {"output_id": "out-2", "output_type": "JSON", "desired_output_value": {"a": 1}, "metadata": {"by": "qa"}}]}
    response = await tenant.http.post("/v1/submit-workflow-execution-actuals", json=body)
    assert response.status_code == 200 and response.content == b""
    own, by_span = await read(tenant, "ex-v")
    assert [(a["name"], a["score"], a["comment"], a["source"], a["origin"]) for a in own] == [
        ("answer", 0.25, "shipped", "HUMAN", "vellum"), ("out-2", None, '{"a":1}', "HUMAN", "vellum")]
    assert own[0]["createdAt"] == "2025-06-01T12:30:00.000000Z"  # the actual's timestamp; oldest first
    assert own[1]["metadata"] == {"output_type": "JSON", "output_id": "out-2", "desired_output_value": {"a": 1},
                                  "metadata": {"by": "qa"}}  # fmt: skip
    assert all(v == [] for v in by_span.values())
    # Submitting an output's actual again replaces it.
    again = {"external_id": "ex-v", "actuals": [{"output_key": "answer", "quality": 1.0, "timestamp": at.timestamp()}]}
    assert (await tenant.http.post("/v1/submit-workflow-execution-actuals", json=again)).status_code == 200
    own, _ = await read(tenant, "ex-v")
    assert sorted((a["name"], a["score"]) for a in own) == [("answer", 1.0), ("out-2", None)]

    refusals = [
        ({"actuals": [{"output_key": "a", "quality": 1}]}, ["body", "execution_id"]),
        ({"execution_id": "ex-v", "actuals": [{"output_key": "a", "quality": 1.5}]}, ["body", "actuals", 0, "quality"]),
        ({"execution_id": "ex-v", "actuals": [{"quality": 1}]}, ["body", "actuals", 0, "output_key"]),
        ({"execution_id": "ex-v", "actuals": [{"output_key": "a"}]}, ["body", "actuals", 0, "quality"]),
        ({"execution_id": "ex-v", "actuals": [{"output_key": "a", "quality": 1, "output_type": "X"}]},
         ["body", "actuals", 0, "output_type"]),
    ]  # fmt: skip
    for bad, loc in refusals:
        answer = await tenant.http.post("/v1/submit-workflow-execution-actuals", json=bad)
        assert answer.status_code == 400 and answer.json()["detail"][0]["loc"] == loc, (bad, answer.text)
    elsewhere = await other_tenant.http.post("/v1/submit-workflow-execution-actuals", json=again)
    assert elsewhere.status_code == 404 and "ex-v" in elsewhere.json()["detail"]
    assert sorted(a["score"] or 0 for a in (await read(tenant, "ex-v"))[0]) == [0, 1.0]


async def test_openinference_span_annotations(tenant: Tenant, other_tenant: Tenant) -> None:
    await log_trace(tenant, "ex-p", count=3, depth=2)
    body = {"data": [
        {"span_id": "s1", "name": "relevance", "annotator_kind": "LLM",
         "result": {"label": "relevant", "score": 0.9, "explanation": "on topic"}, "metadata": {"model": "gpt-4o"}},
        {"span_id": "s2", "name": "relevance", "annotator_kind": "CODE", "result": {"score": 0.1}}]}  # fmt: skip
    response = await tenant.http.post("/v1/span_annotations", params={"sync": "true"}, json=body)
    assert response.status_code == 200, response.text
    ids = [d["id"] for d in response.json()["data"]]
    assert len(set(ids)) == 2
    _, by_span = await read(tenant, "ex-p")
    assert [(a["name"], a["score"], a["label"], a["comment"], a["source"], a["origin"]) for a in by_span["s1"]] == [
        ("relevance", 0.9, "relevant", "on topic", "LLM", "openinference")]
    # As in Phoenix: (span, name, identifier) is one annotation, updated when sent again; without `sync` the
    # answer lists no ids.
    update = {"data": [{"span_id": "s2", "name": "relevance", "annotator_kind": "HUMAN", "result": {"score": 0.7}}]}
    assert (await tenant.http.post("/v1/span_annotations", json=update)).json() == {"data": []}
    _, by_span = await read(tenant, "ex-p")
    assert [(a["score"], a["source"]) for a in by_span["s2"]] == [(0.7, "HUMAN")]

    missing = await other_tenant.http.post("/v1/span_annotations", json=body)
    assert missing.status_code == 404 and "s1" in missing.json()["detail"]
    robot = {"data": [{**body["data"][0], "annotator_kind": "ROBOT"}]}
    for bad, loc in ((robot, ["body", "data", 0, "annotator_kind"]),
                     ({"data": [{"span_id": "s1", "name": "x", "annotator_kind": "LLM"}]}, ["body", "data", 0]),
                     ({"data": [{"span_id": "s1", "name": "x", "annotator_kind": "LLM", "result": {"score": "high"}}]},
                      ["body", "data", 0, "result", "score"]),
                     ({"rows": []}, ["body", "data"])):  # fmt: skip
        answer = await tenant.http.post("/v1/span_annotations", json=bad)
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == loc, (bad, answer.text)


async def test_filter_and_average_annotations_written_by_two_formats(tenant: Tenant) -> None:
    # HoneyHive sessions rated by their users, Vellum-style actuals on workflows: one name, `quality`.
    t0 = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
    for i, rating in enumerate((0.2, 0.9)):
        event = {"event_type": "session", "session_id": f"hh-{i}", "event_name": "chat", "inputs": {},
                 "start_time": int(t0.timestamp() * 1000), "feedback": {"quality": rating, "mood": "ok"}}
        assert (await tenant.http.post("/v1/events", json=event)).status_code == 200
    for i, (quality, hours) in enumerate(((0.4, 0), (0.6, 0), (1.0, 1))):
        await log_trace(tenant, f"vl-{i}", count=2, depth=2)
        actuals = {"execution_id": f"vl-{i}", "actuals": [
            {"output_key": "quality", "quality": quality, "timestamp": (t0 + timedelta(hours=hours)).timestamp()}]}
        assert (await tenant.http.post("/v1/submit-workflow-execution-actuals", json=actuals)).status_code == 200
    _, spans = await node_ids(tenant, "vl-2")
    await tenant.gql_data(ANNOTATE, {"t": spans["s1"], "n": "toxicity", "s": "LLM", "score": 0.05, "label": "clean"})

    assert await filtered(tenant, name="quality") == ["hh-0", "hh-1", "vl-0", "vl-1", "vl-2"]
    assert await filtered(tenant, name="quality", minScore=0.5) == ["hh-1", "vl-1", "vl-2"]
    assert await filtered(tenant, name="quality", minScore=0.4, maxScore=0.6) == ["vl-0", "vl-1"]
    assert await filtered(tenant, label="ok") == ["hh-0", "hh-1"]
    # An annotation on a span counts for its execution.
    assert await filtered(tenant, name="toxicity", source="LLM") == ["vl-2"]
    assert await filtered(tenant, name="toxicity", source="HUMAN") == []
    assert await filtered(tenant, name="nothing") == []

    # The Vellum actuals carry their timestamps: hourly averages over them.
    hours = (await tenant.gql_data(SCORES, {"n": "quality", "from": t0.isoformat(),
                                            "to": (t0 + timedelta(hours=3)).isoformat(), "b": "HOUR"}))  # fmt: skip
    points = hours["annotationScores"]["points"]
    assert [(p["count"], p["scored"], p["min"], p["max"]) for p in points] == [
        (2, 2, 0.4, 0.6), (1, 1, 1.0, 1.0), (0, 0, None, None)]
    assert points[0]["average"] == pytest.approx(0.5) and points[2]["average"] is None
    # HoneyHive feedback was given when it was written: now, in one day bucket around now.
    now = datetime.now(UTC)
    around = (await tenant.gql_data(SCORES, {"n": "quality", "from": (now - timedelta(days=1)).isoformat(),
                                             "to": (now + timedelta(days=1)).isoformat(), "b": "DAY",
                                             "s": "HUMAN"}))["annotationScores"]["points"]  # fmt: skip
    (today,) = [p for p in around if p["count"]]
    assert (today["count"], today["scored"]) == (2, 2) and today["average"] == pytest.approx(0.55)
    too_many = await tenant.gql(SCORES, {"n": "quality", "from": "2000-01-01T00:00:00Z", "to": "2020-01-01T00:00:00Z",
                                         "b": "MINUTE"})  # fmt: skip
    assert too_many["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "bucket"}


async def test_executions_subscription_refuses_an_annotation_filter(tenant: Tenant) -> None:
    body = await tenant.gql("subscription { executions(filter: {annotation: {name: \"x\"}}) { id } }")
    assert body["errors"]


EXECUTIONS_WITH_ANNOTATIONS = """{ executions(first: 50) { edges { node { id
  annotations { name score source }
  spans(first: 10) { edges { node { id annotations { name label } } } } } } } }"""


@pytest.fixture
async def two(app: Any, state: AppState) -> AsyncIterator[tuple[Tenant, Tenant]]:
    async for few in make_tenant(app, state):
        async for many in make_tenant(app, state):
            yield few, many


async def test_annotation_lists_query_count_is_flat(state: AppState, two: tuple[Tenant, Tenant]) -> None:
    few, many = two
    for tenant, n in ((few, 2), (many, 20)):
        batch = []
        for i in range(n):
            await log_trace(tenant, f"ex-{i}", count=5, depth=2)
            execution, spans = await node_ids(tenant, f"ex-{i}")
            batch += [{"targetId": execution, "name": "rating", "source": "HUMAN", "score": i},
                      *({"targetId": s, "name": "ok", "source": "CODE", "label": "yes"} for s in spans.values())]
        await tenant.gql_data(ANNOTATE_MANY, {"a": batch})
    counts = [await _count(state, t, EXECUTIONS_WITH_ANNOTATIONS) for t in (few, many)]
    assert_flat(counts)
    data = await many.gql_data(EXECUTIONS_WITH_ANNOTATIONS)
    assert sum(len(e["node"]["annotations"]) for e in data["executions"]["edges"]) == 20
    assert all(len(s["node"]["annotations"]) == 1 for e in data["executions"]["edges"]
               for s in e["node"]["spans"]["edges"])  # fmt: skip


async def test_the_readme_annotation_examples_work_as_printed(tenant: Tenant) -> None:
    from tests.test_readme_example import README, _example

    body, _ = _example()  # the README's workflow, trace-1
    assert (await tenant.http.post("/monitoring/v1/events", json=body)).status_code == 200
    text = README.read_text()
    section = text[text.index("## Feedback and annotations") :]
    section = section[: section.index("\n## ")]
    mutation, read_back, aggregate = re.findall(r"```graphql\n(.*?)\n```", section, re.S)
    assert (await tenant.gql_data(mutation))["annotate"]["id"]
    for path, payload in re.findall(r"curl -s '?localhost:8000([^' ]+)'? .*?-d '(.*?)'", section, re.S):
        response = await tenant.http.post(path, content=payload, headers={"Content-Type": "application/json"})
        assert response.status_code == 200, (path, response.text)
    execution = (await tenant.gql_data(read_back))["execution"]
    assert [(a["name"], a["score"], a["origin"]) for a in execution["annotations"]] == [("answer", 0.9, "vellum")]
    by_span = {e["node"]["name"]: e["node"]["annotations"] for e in execution["spans"]["edges"]}
    assert [(a["name"], a["score"]) for a in by_span["lookup-order"]] == [("correctness", 0.2), ("relevance", 0.8)]
    assert "points" in (await tenant.gql_data(aggregate))["annotationScores"]


def test_format_mappings_at_their_edges() -> None:
    from ingest import honeyhive
    from ingest.honeyhive_feedback import feedback_annotations
    from ingest.openinference_annotations import adapt_span_annotations
    from ingest.validation import InvalidInput
    from ingest.vellum_actuals import adapt_actuals

    long_text = "x" * 1001
    batch = honeyhive.adapt_create({"event_type": "tool", "event_id": "e", "session_id": "s", "inputs": {},
                                    "feedback": {"note": long_text, "ok": False, "n": 2, "obj": {"a": 1}}})  # fmt: skip
    got = {r.name: (r.span_id, r.score, r.label, r.comment) for r in feedback_annotations(batch, "api_key:k")}
    assert got == {"note": ("e", None, None, long_text), "ok": ("e", None, "false", None), "n": ("e", 2.0, None, None)}
    again = {r.name: r.id for r in feedback_annotations(batch, "api_key:k")}
    assert again == {r.name: r.id for r in feedback_annotations(batch, "api_key:other")}  # ids name the feedback

    # Vellum timestamps in milliseconds read as such; an actual's id is its execution and output key.
    _, (ms,) = adapt_actuals({"execution_id": "x", "actuals": [{"output_key": "k", "quality": 0,
                                                                "timestamp": 1_748_781_000_000}]}, "a")  # fmt: skip
    _, (seconds,) = adapt_actuals({"external_id": "x", "actuals": [{"output_key": "k", "quality": 0,
                                                                    "timestamp": 1_748_781_000}]}, "a")  # fmt: skip
    assert ms.created_at == seconds.created_at == datetime(2025, 6, 1, 12, 30, tzinfo=UTC) and ms.id == seconds.id
    assert ms.score == 0.0  # a quality of 0 is a score, not a missing one

    # Phoenix's field names in errors: the explanation is result.explanation, the source annotator_kind.
    long_note = {"data": [{"span_id": "s", "name": "n", "annotator_kind": "HUMAN",
                           "result": {"explanation": "y" * 70_000}}]}  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        adapt_span_annotations(long_note, "a")
    assert refused.value.errors[0]["loc"] == ["data", 0, "result", "explanation"]


async def test_deleting_an_execution_deletes_its_annotations(tenant: Tenant) -> None:
    for execution_id in ("ex-kept", "ex-gone"):
        await log_trace(tenant, execution_id, count=2, depth=1)
        execution, spans = await node_ids(tenant, execution_id)
        await tenant.gql_data(ANNOTATE, {"t": execution, "n": "rating", "s": "HUMAN", "score": 3})
        await tenant.gql_data(ANNOTATE, {"t": spans["s1"], "n": "rating", "s": "HUMAN", "score": 5})
    assert await filtered(tenant, name="rating") == ["ex-gone", "ex-kept"]

    await tenant.gql_data('mutation { deleteExecutions(ids: ["ex-gone"]) { id } }')

    assert await filtered(tenant, name="rating") == ["ex-kept"]
    now = datetime.now(UTC)
    series = (await tenant.gql_data(SCORES, {"n": "rating", "from": (now - timedelta(hours=1)).isoformat(),
                                             "to": (now + timedelta(hours=1)).isoformat(), "b": "HOUR"}))  # fmt: skip
    assert sum(p["count"] for p in series["annotationScores"]["points"]) == 2
