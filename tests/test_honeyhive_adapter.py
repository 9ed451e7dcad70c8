"""What HoneyHive events become: their events, span pieces, child links, and the errors that name the field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from ingest import honeyhive
from ingest.records import Batch, CanonicalEvent
from ingest.validation import InvalidInput

START_MS = 1_700_000_000_000
START = datetime.fromtimestamp(START_MS / 1000, tz=UTC)


def by_id(batch: Batch) -> dict[str, CanonicalEvent]:
    return {e.id: e for e in batch.events}


def error_of(call: Any, *args: Any) -> dict[str, Any]:
    with pytest.raises(InvalidInput) as raised:
        call(*args)
    return raised.value.errors[0]


@pytest.mark.parametrize(
    ("item", "error"),
    [
        ({"inputs": {}}, {"loc": ["event_type"], "msg": "field required", "type": "missing"}),
        ({"event_type": "agent", "inputs": {}},
         {"loc": ["event_type"], "msg": "must be one of model, tool, chain, session", "type": "enum"}),
        ({"event_type": "tool"}, {"loc": ["inputs"], "msg": "field required", "type": "missing"}),
        ({"event_type": "tool", "inputs": {}, "duration": "5"},
         {"loc": ["duration"], "msg": "must be a number of milliseconds", "type": "float_type"}),
        ({"event_type": "tool", "inputs": {}, "duration": True},
         {"loc": ["duration"], "msg": "must be a number of milliseconds", "type": "float_type"}),
        ({"event_type": "tool", "inputs": {}, "error": {"code": 1}},
         {"loc": ["error"], "msg": "must be a string or null", "type": "string_type"}),
        ({"event_type": "tool", "inputs": {}, "children_ids": ["ok", ""]},
         {"loc": ["children_ids", 1], "msg": "must be a non-empty string", "type": "string_type"}),
    ],
)  # fmt: skip
def test_create_rejects_with_the_field_named(item: dict[str, Any], error: dict[str, Any]) -> None:
    assert error_of(honeyhive.adapt_create, item) == error


@pytest.mark.parametrize("key", ["config", "metadata", "feedback", "metrics", "user_properties", "children_ids"])
def test_kept_fields_of_the_wrong_shape_are_rejected(key: str) -> None:
    assert error_of(honeyhive.adapt_create, {"event_type": "tool", "inputs": {}, key: "text"})["loc"] == [key]


def test_a_bare_event_is_its_own_execution_and_keeps_its_fields() -> None:
    kept = {"config": {"model": "m"}, "metadata": {"a": 1}, "feedback": {"f": 1}, "metrics": {"x": 1},
            "user_properties": {"u": 1}, "children_ids": [], "project_id": "p1", "project": "proj", "source": "sdk"}
    item = {"event_type": "model", "event_id": "ev", "inputs": {"q": 1}, "start_time": START_MS, "duration": 1500,
            "event_name": "call", "other": "not kept", **kept}  # fmt: skip
    (e,) = honeyhive.adapt_create(item).events
    assert (e.id, e.name, e.timestamp, e.source, e.execution_id, e.span_id, e.outcome) == (
        "ev", "model", START, "honeyhive", "ev", "ev", "success",
    )  # fmt: skip
    p = e.span
    assert (p.parent_span_id, p.name, p.kind, p.status) == ("", "call", "MODEL", "SUCCEEDED")
    assert (p.start_time, p.end_time) == (START, START + timedelta(milliseconds=1500))
    assert (p.inputs, p.outputs, p.error) == ('{"q":1}', "", "")
    assert orjson.loads(p.attributes) == kept
    assert orjson.loads(e.payload) == {**item, "session_id": "ev"}


def test_status_from_error_end_and_outputs() -> None:
    base = {"event_type": "tool", "inputs": {}, "start_time": START_MS}
    running = honeyhive.adapt_create(base).events[0]
    assert (running.span.status, running.span.end_time, running.outcome, running.span.name) == (
        "RUNNING", None, "", "tool")  # fmt: skip
    done = honeyhive.adapt_create({**base, "outputs": {"a": 1}}).events[0].span
    assert (done.status, done.end_time, done.outputs) == ("SUCCEEDED", START, '{"a":1}')  # ends when it starts
    failed = honeyhive.adapt_create({**base, "error": "boom", "end_time": START_MS + 10}).events[0]
    assert (failed.span.status, failed.outcome, failed.span.error) == ("FAILED", "failure", '{"message":"boom"}')
    assert failed.span.end_time == START + timedelta(milliseconds=10)
    # an explicit end wins over a duration; an empty error is no error
    ended = honeyhive.adapt_create({**base, "error": "", "end_time": START_MS + 10, "duration": 99}).events[0].span
    assert (ended.status, ended.end_time) == ("SUCCEEDED", START + timedelta(milliseconds=10))


def test_without_start_time_the_event_starts_when_received() -> None:
    before = datetime.now(UTC)
    (e,) = honeyhive.adapt_create({"event_type": "tool", "inputs": {}}).events
    assert before <= e.timestamp <= datetime.now(UTC) and e.span.start_time == e.timestamp


def test_session_events_and_their_spans() -> None:
    batch = honeyhive.adapt_session_event("sess", {"event_type": "session", "inputs": {}, "start_time": START_MS})
    (root,) = batch.events
    assert (root.id, root.execution_id, root.span_id, root.span.parent_span_id) == ("sess", "sess", "sess", "")
    # a span without parent_id hangs under the session; without event_id it gets a new id, not the session's
    (e,) = honeyhive.adapt_session_event("sess", {"event_type": "model", "start_time": START_MS}).events
    assert e.id not in ("sess", "") and (e.execution_id, e.span_id, e.span.parent_span_id) == ("sess", e.id, "sess")
    assert orjson.loads(e.payload)["session_id"] == "sess" and orjson.loads(e.payload)["event_id"] == e.id
    # no event_type: a chain; an explicit parent_id wins; a parent that is the span itself is no parent
    (c,) = honeyhive.adapt_session_event("sess", {"event_id": "c", "parent_id": "p"}).events
    assert (c.name, c.span.kind, c.span.parent_span_id) == ("chain", "CHAIN", "p")
    (s,) = honeyhive.adapt_session_event("sess", {"event_id": "c", "parent_id": "c"}).events
    assert s.span.parent_span_id == ""
    # a bare session event names its session in the body
    (b,) = honeyhive.adapt_create({"event_type": "session", "session_id": "s2", "inputs": {}}).events
    assert (b.id, b.execution_id, b.span_id) == ("s2", "s2", "s2")


def test_children_nest_under_their_parent_and_leave_the_payload() -> None:
    item = {"event_type": "chain", "event_id": "top", "start_time": START_MS,
            "children": [{"event_type": "tool", "event_id": "kid", "start_time": START_MS,
                          "children": [{"event_type": "model", "event_id": "grandkid"}]}]}  # fmt: skip
    events = by_id(honeyhive.adapt_session_event("sess", item))
    assert {k: e.span.parent_span_id for k, e in events.items()} == {"top": "sess", "kid": "top", "grandkid": "kid"}
    assert "children" not in orjson.loads(events["top"].payload)
    assert {e.execution_id for e in events.values()} == {"sess"}
    bad = {"event_type": "chain", "children": [{"event_type": "tool"}, {"event_type": "tool", "duration": "x"}]}
    assert error_of(honeyhive.adapt_session_event, "sess", bad)["loc"] == ["children", 1, "duration"]
    assert error_of(honeyhive.adapt_session_event, "sess", {"children": ["x"]})["loc"] == ["children", 0]


def _nested(levels: int) -> dict[str, Any]:
    item: dict[str, Any] = {"event_type": "tool"}
    for _ in range(levels):
        item = {"event_type": "chain", "children": [item]}
    return item


def test_children_nest_at_most_32_levels() -> None:
    assert len(honeyhive.adapt_session_event("sess", _nested(32)).events) == 33
    error = error_of(honeyhive.adapt_session_event, "sess", _nested(33))
    assert error["loc"] == ["children", 0] * 33 and error["msg"] == "children nest deeper than 32 levels"


def test_children_ids_become_parent_links_timed_at_the_parents_end() -> None:
    item = {"event_type": "chain", "event_id": "top", "start_time": START_MS, "end_time": START_MS + 5,
            "children_ids": ["a", "top", "b"]}  # fmt: skip
    batch = honeyhive.adapt_session_event("sess", item)
    links = [e for e in batch.events if e.name == "honeyhive.child_link"]
    assert [(e.span_id, e.span.parent_span_id, e.execution_id, e.source) for e in links] == [
        ("a", "top", "sess", "honeyhive"), ("b", "top", "sess", "honeyhive"),
    ]  # fmt: skip
    assert {e.timestamp for e in links} == {START + timedelta(milliseconds=5)}
    assert orjson.loads(links[0].payload) == {"parent_id": "top", "child_id": "a"}
    # the same link sent again is the same event
    ids = [e.id for e in links]
    assert ids == [e.id for e in honeyhive.adapt_session_event("sess", item).events if e.name.endswith("link")]
    assert ids[0] == str(uuid.uuid5(uuid.UUID("3f0c5a1e-2b7d-4c59-9a0e-6d1f2b8c7e44"), "sess\x00top\x00a"))
    running = {**item, "end_time": None}  # no end: timed at its start
    assert {e.timestamp for e in honeyhive.adapt_session_event("sess", running).events} == {START}


def test_usage_and_cost_from_metadata_or_metrics() -> None:
    base = {"event_type": "model", "inputs": {}, "config": {"model": "gpt-x"}}
    p = honeyhive.adapt_create({**base, "metadata": {"prompt_tokens": 3, "completion_tokens": 4, "cost": 0.5}}).events[
        0].span  # fmt: skip
    assert (p.input_tokens, p.output_tokens, orjson.loads(p.cost)) == (3, 4, [{"value": 0.5, "unit": "USD"}])
    assert orjson.loads(p.usage)[0]["model"] == "gpt-x"
    # metrics when metadata says nothing; a nested usage object; metadata's cost before metrics'
    item = {**base, "metadata": {"cost": 1}, "metrics": {"usage": {"input_tokens": 7}, "cost": 2}}
    p = honeyhive.adapt_create(item).events[0].span
    assert (p.input_tokens, orjson.loads(p.cost)) == (7, [{"value": 1.0, "unit": "USD"}])
    p = honeyhive.adapt_create({**base, "config": {}, "metrics": {"input_tokens": 1}}).events[0].span
    assert orjson.loads(p.usage)[0]["model"] == ""
    assert error_of(honeyhive.adapt_create, {**base, "metrics": {"cost": "x"}})["loc"] == ["metrics", "cost"]
    assert error_of(honeyhive.adapt_create, {**base, "metadata": {"input_tokens": -1}})["loc"] == [
        "metadata", "input_tokens"]  # fmt: skip


def test_bodies_that_are_not_objects_and_bad_times_are_named() -> None:
    assert error_of(honeyhive.adapt_create, ["not", "an object"])["loc"] == []
    assert error_of(honeyhive.adapt_session_event, "sess", "text")["loc"] == []
    base = {"event_type": "tool", "inputs": {}}
    assert error_of(honeyhive.adapt_create, {**base, "start_time": "noon"})["loc"] == ["start_time"]
    assert error_of(honeyhive.adapt_create, {**base, "end_time": "noon"})["loc"] == ["end_time"]


def test_a_created_event_nests_children_as_deep_as_a_session_event() -> None:
    assert len(honeyhive.adapt_create({**_nested(32), "inputs": {}}).events) == 33


def test_a_span_without_inputs_says_nothing_of_them() -> None:
    (e,) = honeyhive.adapt_session_event("sess", {"event_type": "tool"}).events
    assert (e.span.inputs, e.span.outputs, e.span.error) == ("", "", "")
