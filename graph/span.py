"""Span: a unit of work inside an execution, the merged latest state of its pieces."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated

import orjson
import strawberry

from graph.context import Info
from graph.cost import Cost
from graph.enums import SPAN_KIND_VALUE, SpanKind, SpanStatus
from graph.node import Node
from graph.run_result import RunResult
from graph.scalars import JSON, DateTime, json_text
from graph.span_error import SpanError
from graph.time_annotations import OptionalDateTime
from graph.usage import Usage
from resolvers.loaders.events_by_group import EventsKey
from resolvers.records import SpanRecord, duration_ms
from resolvers.trace import Trace

_new = object.__new__

if TYPE_CHECKING:
    from graph.annotation import Annotation
    from graph.event import Event
    from graph.execution import Execution


@strawberry.type
class Span(RunResult, Node):
    # Plain attributes, set once: a 10,000-span trace resolves these without a Python call per field (so the
    # ids are the records' str, declared as IDs to GraphQL, not wrapped one by one in strawberry.ID).
    id: str = strawberry.field(graphql_type=strawberry.ID)
    execution_id: str = strawberry.field(graphql_type=strawberry.ID)
    parent_id: str | None = strawberry.field(graphql_type=strawberry.ID | None)
    name: str
    # The enums' values as str: graphql-core serializes those with a dict lookup, where Strawberry scans
    # every member of the enum for each Enum instance (the largest cost of a 10,000-span trace).
    kind: str = strawberry.field(graphql_type=SpanKind)
    kind_name: str = strawberry.field(description="The kind as stored (what OTHER stands for).")
    status: str = strawberry.field(graphql_type=SpanStatus)  # the merge only ever yields SpanStatus values
    start_time: DateTime  # type: ignore[valid-type]  # see graph/time_annotations.py
    end_time: OptionalDateTime
    record: strawberry.Private[SpanRecord]
    # The whole trace when the span was read as part of it, so parent and children are in memory: synchronous.
    # A page read by itself (Execution.spans when nothing selects parent or children) has none.
    trace: strawberry.Private[Trace | None]

    # What in_trace sets and the record-only methods below return, as reads of the record (`obj`), and the names
    # they use: a page of spans whose selection reads nothing else (every field but parent, children and the
    # async ones) is completed from its records with them, without a Span object and a method call a field
    # (graph/fast_execution.py; ~1 µs a span). Kept equal to in_trace and the methods by tests/test_fast_paths.py.
    FAST_RECORD_READS = {
        "id": "obj.id", "execution_id": "obj.execution_id", "parent_id": "(obj.parent_id or None)", "name": "obj.name",
        "kind": "_span_kind_value(obj.kind, 'OTHER')", "kind_name": "obj.kind", "status": "obj.status",
        "start_time": "obj.start_iso", "end_time": "obj.end_iso",
        "duration_ms": "(None if obj.end_time is None else (obj.end_time - obj.start_time).total_seconds() * 1000.0)",
        "inputs": "(_fragment(obj.inputs) if obj.inputs else None)",
        "outputs": "(_fragment(obj.outputs) if obj.outputs else None)",
        "attributes": "(_fragment(obj.attributes) if obj.attributes else None)",
        "error": "(_span_error(obj.error) if obj.error else None)",
        "usage": "(_usage(obj.usage, obj.input_tokens, obj.output_tokens, obj.cache_creation_input_tokens, "
                 "obj.cache_read_input_tokens) if obj.usage else None)",
        "cost": "(_cost(obj.cost) if obj.cost else [])",
    }  # fmt: skip
    FAST_RECORD_NAMES = {
        "_span_kind_value": SPAN_KIND_VALUE, "_fragment": orjson.Fragment, "_span_error": SpanError.from_json,
        "_usage": Usage.of_span, "_cost": Cost.from_json, "_loads": orjson.loads,
    }  # fmt: skip
    # The records of usage and cost, as their types' FAST_RECORD_READS read them (the span's record, the stored
    # cost entries): completed from these, a span with usage and cost builds no Usage, ModelUsage or Cost
    # (~1 µs a span that has them).
    FAST_RECORD_RECORDS = {"usage": "(obj if obj.usage else None)", "cost": "(_loads(obj.cost) if obj.cost else [])"}

    @classmethod
    def of(cls, r: SpanRecord, trace: Trace | None) -> Span:
        return cls.in_trace(trace, r)

    @classmethod
    def in_trace(cls, trace: Trace | None, r: SpanRecord) -> Span:
        """Span.of with the trace first: `partial(Span.in_trace, trace)` wraps each record of a page without a
        Python call of its own (a lambda costs one, a partial with a keyword ~3x that)."""
        # The attributes the dataclass __init__ sets, set as one dict: its keywords cost ~1.2 µs a span (12 ms
        # of a 10,000-span page), this ~0.6 µs. Only values that cost nothing to read; the others are
        # computed by their field when it is selected (durationMs).
        span = _new(cls)
        span.__dict__ = {
            "id": r.id, "execution_id": r.execution_id, "parent_id": r.parent_id or None, "name": r.name,
            "kind": SPAN_KIND_VALUE(r.kind, "OTHER"), "kind_name": r.kind, "status": r.status,
            "start_time": r.start_iso, "end_time": r.end_iso, "record": r, "trace": trace,
        }  # fmt: skip
        return span

    def node_key(self) -> tuple[str, ...]:
        return ("Span", self.record.execution_id, self.record.id)

    @classmethod
    def all(cls, records: list[SpanRecord], trace: Trace | None) -> list[Span]:
        return list(map(partial(cls.in_trace, trace), records))

    @strawberry.field
    def duration_ms(self) -> float | None:
        r = self.record  # SpanRecord.duration_ms without the property's call: once per span of a trace
        return duration_ms(r.start_time, r.end_time)

    @strawberry.field
    def attributes(self) -> JSON | None:
        return json_text(self.record.attributes)

    # usage and cost answer a span without them (most spans of a trace) before any further call
    @strawberry.field
    def usage(self) -> Usage | None:
        r = self.record
        if not r.usage:
            return None
        return Usage.of_span(r.usage, r.input_tokens, r.output_tokens, r.cache_creation_input_tokens,
                             r.cache_read_input_tokens)

    @strawberry.field(description="One entry per unit (USD, …); empty when the span has no cost.")
    def cost(self) -> list[Cost]:
        raw = self.record.cost
        return Cost.from_json(raw) if raw else []

    def _tree(self) -> Trace:
        # graph/span_selection.py reads the whole trace whenever a selection reaches parent or children
        if self.trace is None:
            raise RuntimeError("a span read without its trace was asked for its parent or children")
        return self.trace

    @strawberry.field
    def parent(self) -> Span | None:
        trace = self._tree()
        found = trace.by_id.get(self.record.parent_id) if self.record.parent_id else None
        return Span.of(found, trace) if found else None

    @strawberry.field(description="Child spans in start order.")
    def children(self) -> list[Span]:
        trace = self._tree()
        return Span.all(trace.children.get(self.record.id, []), trace)

    @strawberry.field(description="The events that built this span, oldest first.")
    async def events(self, info: Info) -> list[Annotated[Event, strawberry.lazy("graph.event")]]:
        from graph.event import Event

        key = EventsKey("span", (self.record.execution_id, self.record.id), None, True)
        return [Event(record=r) for r in await info.context.loaders.events_by_group.load(key)]

    @strawberry.field
    async def execution(self, info: Info) -> Annotated[Execution, strawberry.lazy("graph.execution")]:
        from graph.execution import Execution

        found = await info.context.loaders.execution_by_id.load(self.record.execution_id)
        assert found is not None  # a span always has its execution
        return Execution(record=found)

    @strawberry.field(description="Feedback on this span, oldest first.")
    async def annotations(self, info: Info) -> list[Annotated[Annotation, strawberry.lazy("graph.annotation")]]:
        from graph.annotation import Annotation

        found = await info.context.loaders.annotations_by_target.load((self.record.execution_id, self.record.id))
        return [Annotation(record=r) for r in found]
