"""Closed sets the API exposes as GraphQL enums: span status and kind, and sort direction."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="A span's (or an execution's root span's) merged status.")
class SpanStatus(Enum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


@strawberry.enum(
    description="What a span is, as the write formats name it. Kinds are open on write (canonical spans may "
    "say anything): one no value names reads as OTHER, and `kindName` always has the stored name."
)
class SpanKind(Enum):
    # Vellum lifecycle events (`workflow.execution.*`, `node.execution.*`) and canonical defaults
    WORKFLOW = "WORKFLOW"
    NODE = "NODE"
    SPAN = "SPAN"
    # HoneyHive event types
    SESSION = "SESSION"
    MODEL = "MODEL"
    CHAIN = "CHAIN"
    TOOL = "TOOL"
    # OpenInference and GenAI semantic conventions (OTLP)
    LLM = "LLM"
    AGENT = "AGENT"
    EMBEDDING = "EMBEDDING"
    RETRIEVER = "RETRIEVER"
    RERANKER = "RERANKER"
    GUARDRAIL = "GUARDRAIL"
    EVALUATOR = "EVALUATOR"
    PROMPT = "PROMPT"
    # OpenTelemetry span kinds, when nothing more specific is known
    INTERNAL = "INTERNAL"
    SERVER = "SERVER"
    CLIENT = "CLIENT"
    PRODUCER = "PRODUCER"
    CONSUMER = "CONSUMER"
    UNSPECIFIED = "UNSPECIFIED"
    OTHER = "OTHER"

    @classmethod
    def of(cls, stored: str) -> SpanKind:
        return _KINDS.get(stored, cls.OTHER)

    @staticmethod
    def value_of(stored: str) -> str:
        """The enum value as a plain str (what the span list serializes fastest)."""
        return _KIND_VALUES.get(stored, "OTHER")


_KINDS = {k.value: k for k in SpanKind if k is not SpanKind.OTHER}
_KIND_VALUES = {value: value for value in _KINDS}
# SpanKind.value_of(stored) is SPAN_KIND_VALUE(stored, "OTHER"): a bound C method, for a caller that runs once a
# span of a big trace (graph/span.py Span.of) and would pay a Python call for the staticmethod.
SPAN_KIND_VALUE = _KIND_VALUES.get


@strawberry.enum(description="ASC: smallest first; DESC: largest (newest) first. Ties are broken by id.")
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.enum(description="What a deletion removed: whole executions, or events.")
class DeletionTarget(Enum):
    EXECUTIONS = "executions"
    EVENTS = "events"


@strawberry.enum(description="PENDING until every store is clean; a restarted server finishes pending ones.")
class DeletionState(Enum):
    PENDING = "pending"
    DONE = "done"
