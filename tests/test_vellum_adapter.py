"""What a Vellum monitoring event becomes: its canonical event, its span piece and its definition sightings."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from ingest import vellum
from ingest.validation import InvalidInput
from server.state import AppState
from tests.conftest import Tenant

TS = "2024-01-15T09:30:00.250000Z"
WHEN = datetime(2024, 1, 15, 9, 30, 0, 250000, tzinfo=UTC)


def event(name: str = "node.execution.initiated", **extra: Any) -> dict[str, Any]:
    return {"id": "ev-1", "name": name, "timestamp": TS, "trace_id": "tr", "span_id": "sp", **extra}


def one(item: dict[str, Any]) -> Any:
    batch = vellum.adapt([item])
    assert len(batch.events) == 1
    return batch.events[0]


def test_the_event_keeps_its_time_ids_and_payload() -> None:
    e = one(event(body={"inputs": {"q": 1}}))
    assert (e.id, e.name, e.timestamp, e.source, e.execution_id, e.span_id) == (
        "ev-1", "node.execution.initiated", WHEN, "vellum", "tr", "sp",
    )  # fmt: skip
    assert orjson.loads(e.payload) == event(body={"inputs": {"q": 1}})
    assert (e.span.start_time, e.span.end_time, e.span.status, e.span.kind) == (WHEN, None, "RUNNING", "NODE")


def test_every_field_of_the_event_and_its_piece_is_the_one_it_says() -> None:
    """The adapter fills the event and its piece by position (cheaper per event): a field moved in records.py must
    fail here, not store one field's value in another."""
    body = {"inputs": {"q": 1}, "outputs": [2], "error": {"code": "E"}, "node_definition": {"name": "N", "id": "n"}}
    e = one(event("node.execution.rejected", body=body, parent={"span_id": "up"}))
    assert {f.name: getattr(e, f.name) for f in dataclasses.fields(e) if f.name not in ("payload", "span")} == {
        "id": "ev-1", "name": "node.execution.rejected", "timestamp": WHEN, "source": "vellum", "execution_id": "tr",
        "span_id": "sp", "actor_type": "", "actor_id": "", "resource_type": "", "resource_id": "",
        "correlation_id": "", "causation_id": "", "outcome": "failure",
    }  # fmt: skip
    assert orjson.loads(e.payload)["body"] == body
    assert dataclasses.asdict(e.span) == {
        "parent_span_id": "up", "name": "N", "kind": "NODE", "status": "FAILED", "start_time": None,
        "end_time": WHEN, "inputs": '{"q":1}', "outputs": "[2]", "error": '{"code":"E"}',
        "attributes": orjson.dumps({"node_definition": body["node_definition"], "parent": {"span_id": "up"}}).decode(),
        "usage": "", "cost": "", "input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }  # fmt: skip


def test_without_id_or_timestamp_the_event_gets_a_new_id_and_the_time_received() -> None:
    before = datetime.now(UTC)
    item = event()
    del item["id"], item["timestamp"]
    e = one(item)
    after = datetime.now(UTC)
    assert e.id and e.id != "ev-1"
    assert orjson.loads(e.payload)["id"] == e.id  # the payload shows the id the event was stored under
    assert before <= e.timestamp <= after
    assert e.span.start_time == e.timestamp


def test_an_explicit_id_is_not_rewritten_in_the_payload() -> None:
    e = one(event(body={}))
    assert orjson.loads(e.payload)["id"] == "ev-1"


def test_a_numeric_id_is_its_string_and_the_payload_keeps_it_as_sent() -> None:
    e = one(event(id=5))
    assert (e.id, orjson.loads(e.payload)["id"]) == ("5", 5)


def test_a_bad_timestamp_is_named() -> None:
    with pytest.raises(InvalidInput) as raised:
        vellum.adapt([event(), event(timestamp="soon")])
    assert raised.value.errors[0]["loc"] == [1, "timestamp"]


def test_no_body_is_an_empty_body() -> None:
    piece = one(event()).span
    assert (piece.inputs, piece.outputs, piece.error, piece.attributes, piece.usage, piece.cost) == ("",) * 6


def test_inputs_outputs_and_definitions() -> None:
    body = {
        "inputs": None, "outputs": [1, "a"],
        "workflow_definition": {"id": "wf", "name": "Flow", "module": ["m"]},
        "node_definition": {"id": "nd", "name": "Node", "module": "not a list"},
    }  # fmt: skip
    batch = vellum.adapt([event(body=body)])
    piece = batch.events[0].span
    assert (piece.inputs, piece.outputs) == ("null", '[1,"a"]')  # a key present as null is still said
    assert piece.name == "Node"  # the node's name over the workflow's, as it comes later
    assert orjson.loads(piece.attributes) == {
        "workflow_definition": body["workflow_definition"], "node_definition": body["node_definition"],
    }  # fmt: skip
    sightings = [(s.type, s.id, s.seen_at, s.name, s.module) for s in batch.definitions]
    assert sightings == [("workflow", "wf", WHEN, "Flow", ["m"]), ("node", "nd", WHEN, "Node", None)]


def test_a_definition_without_a_string_id_or_name_is_kept_but_not_registered() -> None:
    body = {"node_definition": {"id": 7, "name": 8}, "workflow_definition": {"id": "wf"}}
    batch = vellum.adapt([event(body=body)])
    assert [(s.type, s.id, s.name) for s in batch.definitions] == [("workflow", "wf", None)]
    assert batch.events[0].span.name == ""
    assert orjson.loads(batch.events[0].span.attributes)["node_definition"] == {"id": 7, "name": 8}


def test_a_definition_repeated_in_a_batch_is_registered_once() -> None:
    node = {"node_definition": {"id": "nd", "name": "Node"}}
    batch = vellum.adapt([event(body=node), {**event(body=node), "id": "ev-2"}, event(body={"node_definition": "x"})])
    assert [(s.type, s.id) for s in batch.definitions] == [("node", "nd")]
    assert [e.span.name for e in batch.events] == ["Node", "Node", ""]


def test_the_parent_object_is_kept_and_its_span_id_is_the_parent() -> None:
    parent = {"type": "WORKFLOW", "span_id": "wf-span", "parent": {"type": "EXTERNAL"}}
    piece = one(event(parent=parent)).span
    assert piece.parent_span_id == "wf-span"
    assert orjson.loads(piece.attributes) == {"parent": parent}
    no_span = one(event(parent={"type": "EXTERNAL", "span_id": 5})).span
    assert (no_span.parent_span_id, orjson.loads(no_span.attributes)) == ("", {"parent": {"type": "EXTERNAL",
                                                                                       "span_id": 5}})  # fmt: skip
    assert one(event(body={"outputs": 1})).span.attributes == ""  # no parent, no definitions: nothing to say


@pytest.mark.parametrize(
    ("name", "error", "status"),
    [
        ("node.execution.rejected", {"code": "NODE_EXECUTION", "message": "boom"}, "FAILED"),
        ("node.execution.rejected", {"code": "user_cancelled", "message": "stop"}, "CANCELLED"),
        ("node.execution.rejected", {"message": "no code"}, "FAILED"),
        ("node.execution.rejected", "a plain CANCEL string", "FAILED"),
        ("node.execution.streaming", {"code": "WORKFLOW_CANCELLATION"}, "CANCELLED"),
    ],
)
def test_an_error_code_that_says_cancel_cancels_the_span(name: str, error: Any, status: str) -> None:
    piece = one(event(name, body={"error": error})).span
    assert piece.error == orjson.dumps(error).decode()
    assert piece.status == status


def test_usage_result_or_usage_and_their_cost() -> None:
    usage = [{"ml_model_name": "gpt", "ml_model_usage": {"input_token_count": 3, "output_token_count": 4}}]
    for key in ("usage_result", "usage"):
        piece = one(event(body={key: {"usage": usage, "cost": [{"value": 0.5, "unit": "USD"}]}})).span
        assert (piece.input_tokens, piece.output_tokens) == (3, 4)
        assert orjson.loads(piece.usage)[0]["model"] == "gpt"
        assert orjson.loads(piece.cost) == [{"value": 0.5, "unit": "USD"}]
    # usage_result wins over usage
    piece = one(event(body={"usage_result": {"usage": usage}, "usage": {"usage": []}})).span
    assert piece.input_tokens == 3 and piece.cost == ""


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"usage_result": {"usage": [{"input_token_count": -1}]}}, [0, "body", "usage_result", "usage", 0,
                                                                     "input_token_count"]),
        ({"usage": {"usage": [{"input_token_count": -1}]}}, [0, "body", "usage", "usage", 0, "input_token_count"]),
        ({"usage_result": {"usage": [], "cost": "free"}}, [0, "body", "usage_result", "cost"]),
        ({"usage": {"cost": ["free"]}}, [0, "body", "usage", "cost", 0]),
    ],
)  # fmt: skip
def test_bad_usage_or_cost_is_named_by_where_it_was(body: dict[str, Any], loc: list[Any]) -> None:
    with pytest.raises(InvalidInput) as raised:
        vellum.adapt([event(body=body)])
    assert raised.value.errors[0]["loc"] == loc


async def test_definitions_reach_the_registry(tenant: Tenant, state: AppState) -> None:
    wf = {"workflow_definition": {"id": "wf-reg", "name": "Flow", "module": ["a", "b"]}}
    response = await tenant.http.post("/monitoring/v1/events", json=[event(body=wf)])
    assert response.json() == {"count": 1, "success": True}
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    row = await state.pg.fetchrow("SELECT kind, name, module FROM definitions WHERE tenant_id = $1 AND id = 'wf-reg'",
                                  tenant_id)  # fmt: skip
    assert (row["kind"], row["name"], orjson.loads(row["module"])) == ("workflow", "Flow", ["a", "b"])
