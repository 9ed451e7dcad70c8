"""The canonical model every write format lands in: one event row, optionally carrying a span piece."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from storage.postgres.registry import Sighting

EVENT_COLUMNS: tuple[str, ...] = (
    "tenant_id", "id", "name", "timestamp", "source", "execution_id", "span_id",
    "actor_type", "actor_id", "resource_type", "resource_id", "correlation_id", "causation_id",
    "outcome", "payload", "is_span",
    "parent_span_id", "span_name", "span_kind", "span_status", "start_time", "end_time",
    "inputs", "outputs", "error", "attributes", "usage", "cost",
    "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
)  # fmt: skip


@dataclass(slots=True)
class SpanPiece:
    """What one event says about its span; empty strings and None mean "says nothing"."""

    parent_span_id: str = ""
    name: str = ""
    kind: str = ""
    status: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    inputs: str = ""
    outputs: str = ""
    error: str = ""
    attributes: str = ""
    usage: str = ""
    cost: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


@dataclass(slots=True)
class CanonicalEvent:
    id: str
    name: str
    timestamp: datetime
    source: str
    execution_id: str = ""
    span_id: str = ""
    actor_type: str = ""
    actor_id: str = ""
    resource_type: str = ""
    resource_id: str = ""
    correlation_id: str = ""
    causation_id: str = ""
    outcome: str = ""
    payload: str = "null"
    span: SpanPiece | None = None


_NO_SPAN = SpanPiece()


def event_columns(batches: list[tuple[str, list[CanonicalEvent]]]) -> list[list[object]]:
    """The events of every (tenant, events) pair as columns in EVENT_COLUMNS order (an event without a span piece
    gets SpanPiece's defaults and is_span 0): an insert takes columns (storage/clickhouse/arrow_insert.py), and
    one list per column is built here without a tuple per event. The one place that spells the columns' order."""
    events = [e for _, batch in batches for e in batch]
    tenants: list[object] = []
    for tenant, batch in batches:
        tenants += [tenant] * len(batch)
    pieces = [_NO_SPAN if e.span is None else e.span for e in events]
    return [
        tenants,
        [e.id for e in events], [e.name for e in events], [e.timestamp for e in events],
        [e.source for e in events], [e.execution_id for e in events], [e.span_id for e in events],
        [e.actor_type for e in events], [e.actor_id for e in events], [e.resource_type for e in events],
        [e.resource_id for e in events], [e.correlation_id for e in events], [e.causation_id for e in events],
        [e.outcome for e in events], [e.payload for e in events], [0 if e.span is None else 1 for e in events],
        [s.parent_span_id for s in pieces], [s.name for s in pieces], [s.kind for s in pieces],
        [s.status for s in pieces], [s.start_time for s in pieces], [s.end_time for s in pieces],
        [s.inputs for s in pieces], [s.outputs for s in pieces], [s.error for s in pieces],
        [s.attributes for s in pieces], [s.usage for s in pieces], [s.cost for s in pieces],
        [s.input_tokens for s in pieces], [s.output_tokens for s in pieces],
        [s.cache_creation_input_tokens for s in pieces], [s.cache_read_input_tokens for s in pieces],
    ]  # fmt: skip


@dataclass
class Batch:
    """One request's worth of canonical events plus the registry sightings they imply."""

    events: list[CanonicalEvent] = field(default_factory=list)
    definitions: list[Sighting] = field(default_factory=list)
    seen_definitions: set[tuple[str, str]] = field(default_factory=set)

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.events]
