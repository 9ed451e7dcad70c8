"""The live trace's views: what `parent` and `children` of a live span see as updates move spans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingest.records import SpanPiece
from resolvers.live_merge import SpanState
from resolvers.live_trace import LiveTrace

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def update(trace: LiveTrace, states: dict[str, SpanState], span_id: str, seconds: int, **piece: object) -> None:
    """What execution_updates does with one event: merge the piece, then tell the trace."""
    ts = T0 + timedelta(seconds=seconds)
    state = states.get(span_id) or states.setdefault(span_id, SpanState.new("x", span_id, ts))
    old_parent = state.record.parent_id
    state.apply(SpanPiece(**piece), ts)  # type: ignore[arg-type]
    trace.moved(span_id, old_parent)


def test_children_follow_parents_named_late_and_moved_and_keep_start_order() -> None:
    states: dict[str, SpanState] = {}
    trace = LiveTrace(states)
    update(trace, states, "root", 0, start_time=T0, name="root")
    update(trace, states, "b", 2, start_time=T0 + timedelta(seconds=2), parent_span_id="root")
    update(trace, states, "a", 1, start_time=T0 + timedelta(seconds=1))  # its parent is not known yet
    assert [r.id for r in trace.children.get("root", [])] == ["b"]
    update(trace, states, "a", 3, parent_span_id="root")  # a later event names it
    assert [r.id for r in trace.children["root"]] == ["a", "b"]  # in start order, not arrival order
    update(trace, states, "b", 4, parent_span_id="a")  # and a span can move
    assert [r.id for r in trace.children["root"]] == ["a"]
    assert [r.id for r in trace.children["a"]] == ["b"]
    update(trace, states, "b", 5, status="SUCCEEDED", end_time=T0 + timedelta(seconds=5))
    assert trace.by_id["b"].status == "SUCCEEDED" and trace.by_id.get("nope") is None
    assert trace.children["a"][0].status == "SUCCEEDED"  # views, not copies: they see the latest state
    assert set(trace.by_id) == {"root", "a", "b"} and len(trace.by_id) == 3


def test_a_trace_read_from_the_store_starts_with_its_tree() -> None:
    states: dict[str, SpanState] = {}
    scratch = LiveTrace(states)
    update(scratch, states, "root", 0, start_time=T0)
    update(scratch, states, "c", 1, start_time=T0 + timedelta(seconds=1), parent_span_id="root")
    rebuilt = LiveTrace(dict(states))
    assert [r.id for r in rebuilt.children["root"]] == ["c"]
