"""The GraphQL object for what a global id names (the lookups themselves live in resolvers/nodes.py)."""

from __future__ import annotations

from typing import cast

import strawberry

from graph.actor import Actor
from graph.annotation import Annotation
from graph.event import Event
from graph.execution import Execution
from graph.node import Node
from graph.resource import Resource
from graph.span import Span
from resolvers.nodes import Found
from resolvers.records import AnnotationRecord, EventRecord, ExecutionRecord, SpanRecord
from resolvers.trace import Trace


def node_of(found: Found | None) -> Node | None:
    if found is None:
        return None
    value = found.value
    if found.type_name == "Execution":
        return Execution(record=cast(ExecutionRecord, value))
    if found.type_name == "Span":
        record, trace = cast(tuple[SpanRecord, Trace], value)
        return Span.of(record, trace)
    if found.type_name == "Event":
        return Event(record=cast(EventRecord, value))
    if found.type_name == "Annotation":
        return Annotation(record=cast(AnnotationRecord, value))
    entity_type, entity_id = cast(tuple[str, str], value)
    cls = Actor if found.type_name == "Actor" else Resource
    return cls(type=entity_type, id=strawberry.ID(entity_id))
