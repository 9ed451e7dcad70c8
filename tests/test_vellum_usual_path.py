"""The Vellum adapter's usual path (one loop, few calls) against its general path (field by field): for any batch,
the same events, span pieces, sightings and, for a bad batch, the same error; and the usual shapes do take it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.ingest import vellum_events
from ingest import validation, vellum
from ingest.records import Batch
from ingest.validation import InvalidInput, dumps, storable_text

RECEIVED = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # the time a batch without timestamps was received
TS = "2024-01-15T09:30:00.250000Z"


@contextmanager
def fixed_clock_and_ids() -> Iterator[None]:
    """Both paths give an event without a timestamp the batch's time and one without an id a new id: fixed here,
    so that their results compare."""
    with patch.object(vellum, "now", lambda: RECEIVED), patch.object(vellum, "new_id", lambda: "new-id"):
        yield


_general_event = vellum._event  # the general path itself, also while a test counts its calls


def general(items: list[Any]) -> Batch:
    """What adapt would make if every item took the general path."""
    batch = Batch()
    for index, item in enumerate(items):
        batch.events.append(_general_event(item, index, RECEIVED, batch))
    return batch


def result(adapt: Any, items: list[Any]) -> tuple[Any, ...]:
    try:
        batch = adapt(items)
    except InvalidInput as exc:
        return ("refused", exc.errors)
    # repr, not ==: two datetimes of the same instant in different zones compare equal, and so do 1 and 1.0
    return ("adapted", repr(batch.events), repr(batch.definitions), batch.seen_definitions)


def assert_same(items: list[Any]) -> None:
    with fixed_clock_and_ids():
        assert result(vellum.adapt, items) == result(general, items)


@contextmanager
def general_path_calls() -> Iterator[list[int]]:
    """The indexes of the items the general path took."""
    taken: list[int] = []
    original = vellum._event

    def counted(item: Any, index: int, received: datetime, batch: Batch) -> Any:
        taken.append(index)
        return original(item, index, received, batch)

    with patch.object(vellum, "_event", counted):
        yield taken


class Sub(dict[str, Any]):
    pass


class Text(str):
    pass


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def event(**fields: Any) -> dict[str, Any]:
    return {"id": "ev-1", "name": "node.execution.initiated", "timestamp": TS, "trace_id": "tr", "span_id": "sp",
            **fields}  # fmt: skip


NODE = {"name": "Prompt", "module": ["bots", "prompt"], "id": "node-def"}
WORKFLOW = {"name": "Flow", "module": ["bots"], "id": "wf-def"}
USAGE = {
    "usage": [{"ml_model_name": "gpt-4o", "ml_model_usage": {"input_token_count": 10, "output_token_count": 5}}],
    "cost": [{"value": 0.25, "unit": "USD"}],
}
USUAL = {
    "bench": vellum_events(6),
    "no id": [{k: v for k, v in event().items() if k != "id"}],
    "empty id": [event(id="")],
    "null id": [event(id=None)],
    "no timestamp": [{k: v for k, v in event().items() if k != "timestamp"}],
    "empty timestamp": [event(timestamp="")],
    "falsy timestamps": [event(timestamp=0), event(timestamp=[]), event(timestamp={})],
    "offset zero": [event(timestamp="2024-01-15T09:30:00+00:00")],
    "no body": [event()],
    "null body": [event(body=None)],
    "empty body": [event(body={})],
    "parent": [event(parent={"type": "WORKFLOW", "span_id": "up", "parent": {"type": "EXTERNAL"}})],
    "parent without span id": [event(parent={"type": "EXTERNAL", "span_id": 5})],
    "both definitions": [event(body={"workflow_definition": WORKFLOW, "node_definition": NODE})],
    "definitions repeated": [event(body={"node_definition": NODE}), event(id="ev-2", body={"node_definition": NODE})],
    "definition without name or id": [event(body={"node_definition": {"id": 7}, "workflow_definition": {}})],
    "definition's name not text": [event(body={"workflow_definition": WORKFLOW, "node_definition": {"name": 5}})],
    "definition not an object": [event(body={"node_definition": "x", "workflow_definition": ["y"]})],
    "inputs, outputs, null inputs": [event(body={"inputs": None, "outputs": [1, "a", {"b": None}]})],
    "error that cancels": [event(name="node.execution.rejected", body={"error": {"code": "USER_CANCELLED"}})],
    "error that fails": [event(name="node.execution.rejected", body={"error": {"code": "E", "message": "boom"}})],
    "error as text": [event(name="node.execution.rejected", body={"error": "a plain CANCEL string"})],
    "usage and cost": [event(name="node.execution.fulfilled", body={"usage_result": USAGE})],
    "usage under usage": [event(name="node.execution.fulfilled", body={"usage": USAGE})],
    "falsy usage": [event(body={"usage_result": {}, "usage": 0})],
    "not a lifecycle name": [event(name="custom.thing")],
    "every phase": [event(name=f"workflow.execution.{p}") for p in
                    ("initiated", "streaming", "paused", "fulfilled", "rejected", "cancelled", "canceled")],
    "long name": [event(name="n" * 300 + ".execution.fulfilled")],
    "unicode and NUL in values": [event(trace_id="trace-ü", span_id="span-😀", body={"inputs": {"q": "a\x00b ü"}},
                                        parent={"span_id": "ü\x00"})],
    "unknown keys": [event(api_version="2024-10-25", body={"invoked_ports": [{"name": "default"}], "outputs": {}})],
    "nested 126 deep": [event(body={"inputs": nested(125)})],
    "nested 128 deep, a long text": [event(body={"inputs": nested(126), "outputs": "x" * 300})],
    "long text with many brackets, shallow": [event(body={"inputs": [[1]] * 200})],
    "big integers": [event(body={"outputs": {"n": 2**63 - 1, "m": -(2**63)}})],
}  # fmt: skip


# Values the usual path converts with the general path's helpers, as that path does.
CONVERTED = {
    "numeric id": [event(id=5)],
    "zero id": [event(id=0)],
    "other offset": [event(timestamp="2024-01-15T11:30:00+02:00")],
    "naive time": [event(timestamp="2024-01-15T09:30:00")],
    "body and parent of a dict subclass": [event(body=Sub(inputs=1), parent=Sub(span_id="up"))],
    "name of a str subclass": [event(name=Text("node.execution.fulfilled"))],
}  # fmt: skip


@pytest.mark.parametrize("items", [*USUAL.values(), *CONVERTED.values()], ids=[*USUAL, *CONVERTED])
def test_usual_shapes_and_converted_values_stay_on_the_usual_path_and_match_the_general_one(items: list[Any]) -> None:
    with general_path_calls() as taken:
        assert_same(items)
    assert taken == []


DECLINED = {
    "NUL in a definition's name": [event(body={"node_definition": {"name": "a\x00", "id": "n"}})],
    "inputs too deep": [event(body={"inputs": nested(129)})],
    "parent too deep": [event(parent={"span_id": "up", "more": nested(128)})],
    "unknown key too deep": [event(extra=nested(128))],
    "payload 129 deep": [event(body={"inputs": nested(127)})],
    "integer past 64 bits": [event(body={"outputs": 2**64})],
    "module too deep": [event(body={"node_definition": {"id": "n", "module": [nested(128)]}})],
}  # fmt: skip


@pytest.mark.parametrize("items", DECLINED.values(), ids=DECLINED.keys())
def test_what_the_usual_path_declines_the_general_one_takes(items: list[Any]) -> None:
    with general_path_calls() as taken:
        assert_same(items)
    assert taken == [len(items) - 1]


REFUSED_ON_THE_USUAL_PATH = {
    "not an object": [event(), 5],
    "bad id": [event(id=1.5)],
    "boolean id": [event(id=True)],
    "time out of range": [event(timestamp="1800-01-01T00:00:00Z")],
    "time past 9999 in UTC": [event(timestamp="9999-12-31T23:59:59-14:00")],
    "bad time": [event(), event(timestamp="soon")],
    "numeric time": [event(timestamp=1_700_000_000)],
    "no name": [{k: v for k, v in event().items() if k != "name"}],
    "empty trace id": [event(trace_id="")],
    "numeric span id": [event(span_id=3)],
    "body not an object": [event(body=["x"])],
    "parent not an object": [event(parent="p")],
    "definition id too long": [event(body={"node_definition": {"id": "x" * 1001}})],
    "NUL in a definition id": [event(body={"workflow_definition": {"id": "a\x00"}})],
    "NUL in a module": [event(body={"node_definition": {"id": "n", "module": ["a\x00"]}})],
    "bad usage": [event(body={"usage_result": {"usage": [{"input_token_count": -1}]}})],
    "bad cost": [event(body={"usage": {"cost": ["free"]}})],
    "second item's usage": [event(), event(body={"usage": {"cost": "free"}})],
}  # fmt: skip


@pytest.mark.parametrize("items", REFUSED_ON_THE_USUAL_PATH.values(), ids=REFUSED_ON_THE_USUAL_PATH.keys())
def test_the_usual_path_refuses_with_the_general_paths_error(items: list[Any]) -> None:
    with general_path_calls() as taken:
        assert_same(items)
    assert taken == []
    with pytest.raises(InvalidInput):
        vellum.adapt(items)


def test_an_item_declined_after_a_first_sighting_gets_the_general_paths_refusal() -> None:
    """Every item the usual path declines is one the general path refuses (a NUL in a definition's name, a payload
    dumps refuses): declined before it changes the batch, it gets that refusal, after an earlier item sighted the
    same definition as well."""
    for bad in ({"node_definition": {**NODE, "name": "a\x00"}}, {"node_definition": NODE, "inputs": 2**64}):
        items = [event(body={"node_definition": NODE}), event(body=bad)]
        with general_path_calls() as taken:
            assert_same(items)
        assert taken == [1]
        with pytest.raises(InvalidInput):
            vellum.adapt(items)


# Values of every JSON kind, nesting near the depth limit among them, and some that cannot be stored.
_scalars = st.none() | st.booleans() | st.integers(-(2**65), 2**65) | st.floats() | st.text(max_size=4)
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                     max_size=3), max_leaves=8) | st.sampled_from([nested(126), nested(127), nested(128)])  # fmt: skip
_text = st.sampled_from(["tr", "sp-ü", "a\x00b", "😀"]) | st.sampled_from(["", None, 7, True])
_definition = st.none() | st.just("x") | st.fixed_dictionaries({}, optional={
    "name": st.sampled_from(["N", "Node", "", "a\x00", 5, None]),
    "id": st.sampled_from(["nd", "wf", "", "a\x00", "x" * 1001, "é" * 400, 7, None]),
    "module": st.sampled_from([["m"], "m", [], ["a\x00"], [nested(128)], None]),
})  # fmt: skip
_usage = st.sampled_from([
    None, {}, 0, [], USAGE, {"usage": [{"input_token_count": -1}]}, {"cost": "free"}, {"usage": [{"prompt_tokens": 3}]},
    {"cost": 0.5}, [{"model": "gpt-4o", "input_tokens": 1}],
])  # fmt: skip
_body = st.none() | st.just(["b"]) | st.fixed_dictionaries({}, optional={
    "inputs": _json, "outputs": _json, "error": _json | st.fixed_dictionaries({"code": st.sampled_from(
        ["USER_CANCELLED", "cancel", "E", 5, None])}),
    "workflow_definition": _definition, "node_definition": _definition, "usage_result": _usage, "usage": _usage,
    "other": _json,
})  # fmt: skip
_parent = st.none() | st.just("p") | st.fixed_dictionaries({}, optional={
    "span_id": st.sampled_from(["up", "", 5, None]), "type": st.just("WORKFLOW"), "parent": _json,
})  # fmt: skip
_item = st.fixed_dictionaries(
    {"name": st.sampled_from(["node.execution.initiated", "node.execution.fulfilled", "workflow.execution.rejected",
                              "node.execution.streaming", "schedule.fired", "x.failed"])},
    optional={
        "trace_id": _text, "span_id": _text, "id": st.sampled_from(["ev-1", "ev-2", "", None, 0, 5, 1.5, False]),
        "timestamp": st.sampled_from([TS, "2024-01-15T09:30:00+00:00", "2024-01-15T11:30:00+02:00",
                                      "2024-01-15T09:30:00", "1800-01-01T00:00:00Z", "soon", "", None, 0, 5, {}]),
        "body": _body, "parent": _parent, "extra": _json,
    },
)  # fmt: skip
# Items mostly with the required strings (else nearly every one would be refused at its first fields).
_mostly_valid = st.builds(lambda item, t, s: {"trace_id": t, "span_id": s, **item}, _item, st.just("tr"),
                          st.sampled_from(["sp-1", "sp-2"]))  # fmt: skip


@given(st.lists(_mostly_valid | _item | st.sampled_from([None, 5, "x", []]), min_size=1, max_size=4))
@settings(max_examples=600, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_any_batch_adapts_as_the_general_path_would(items: list[Any]) -> None:
    assert_same(items)


@pytest.mark.parametrize(
    "value",
    [{"a": 1}, "x" * 1000, [[1]] * 200, nested(127), {"k": nested(126)}, 2**63 - 1, "ü\x00"],
    ids=["small", "long", "long, many brackets, shallow", "127 deep", "127 deep in an object", "int64", "unicode"],
)
def test_storable_text_is_dumps_text(value: Any) -> None:
    assert storable_text(value) == dumps(value) == orjson.dumps(value).decode()


@pytest.mark.parametrize("value", [nested(129), {"k": nested(128)}, 2**64], ids=["129 deep", "in an object", "2**64"])
def test_storable_text_declines_what_dumps_refuses(value: Any) -> None:
    assert storable_text(value) is None
    with pytest.raises(InvalidInput):
        dumps(value)


def test_the_name_table_holds_short_names_only_and_a_bounded_number() -> None:
    """The usual path's per-name answers are kept as lifecycle's and outcome's caches are: the name is the
    client's, so only short ones, and at most a few thousand (test_ingest_name_caches.py)."""
    vellum._NAMES.clear()
    long_name = "n" * 300 + ".execution.fulfilled"
    assert vellum._name_fields(long_name) == ("N" * 300, "SUCCEEDED", False, True, "success")
    assert long_name not in vellum._NAMES
    assert vellum._name_fields("node.execution.initiated") == ("NODE", "RUNNING", True, False, "")
    assert vellum._name_fields("job.done") == ("", "", False, False, "success")  # an outcome, not a phase
    with patch.object(vellum, "_NAMES_MAX", 3):
        for n in range(10):
            vellum._name_fields(f"node{n}.execution.streaming")
    assert len(vellum._NAMES) == 3
    vellum._NAMES.clear()


@given(st.binary(max_size=600) | st.lists(st.sampled_from([b"[", b"{", b"]", b"a", b'"']), max_size=600).map(b"".join))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_the_one_pass_bracket_count_is_the_two_counts(text: bytes) -> None:
    assert validation._may_nest_deep(text) == (len(text) > 256 and text.count(b"[") + text.count(b"{") > 128)
