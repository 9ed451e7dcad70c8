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

    def row(self, tenant_id: str) -> tuple[object, ...]:
        s = self.span
        head = (
            tenant_id, self.id, self.name, self.timestamp, self.source, self.execution_id, self.span_id,
            self.actor_type, self.actor_id, self.resource_type, self.resource_id, self.correlation_id,
            self.causation_id, self.outcome, self.payload,
        )  # fmt: skip
        if s is None:
            return (*head, 0, "", "", "", "", None, None, "", "", "", "", "", "", 0, 0, 0, 0)
        return (
            *head, 1, s.parent_span_id, s.name, s.kind, s.status, s.start_time, s.end_time,
            s.inputs, s.outputs, s.error, s.attributes, s.usage, s.cost,
            s.input_tokens, s.output_tokens, s.cache_creation_input_tokens, s.cache_read_input_tokens,
        )  # fmt: skip


@dataclass
class Batch:
    """One request's worth of canonical events plus the registry sightings they imply."""

    events: list[CanonicalEvent] = field(default_factory=list)
    definitions: list[Sighting] = field(default_factory=list)
    seen_definitions: set[tuple[str, str]] = field(default_factory=set)

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.events]
