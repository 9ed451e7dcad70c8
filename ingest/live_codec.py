"""What a live message carries: the canonical events of one group commit for one tenant, as compact JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

import orjson

from ingest.records import CanonicalEvent, SpanPiece
from storage.clickhouse.events import EventRecord

_piece_values = attrgetter(*SpanPiece.__dataclass_fields__)  # one C call per event: this runs on every commit


@dataclass(slots=True)
class LiveEvent:
    event: EventRecord
    piece: SpanPiece | None


def encode(events: list[CanonicalEvent]) -> bytes:
    rows = []
    for e in events:
        piece = _piece_values(e.span) if e.span is not None else None
        rows.append([
            e.id, e.name, e.timestamp, e.source, e.execution_id, e.span_id, e.actor_type, e.actor_id,
            e.resource_type, e.resource_id, e.correlation_id, e.causation_id, e.outcome, e.payload, piece,
        ])  # fmt: skip
    return orjson.dumps(rows)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def decode(body: bytes) -> list[LiveEvent | None]:
    """The message's events in order; None holds the place of one deleted since (ingest/live_scrub.py), so
    cursors (message id, index) keep naming the same events."""
    out: list[LiveEvent | None] = []
    for row in orjson.loads(body):
        if row is None:
            out.append(None)
            continue
        *head, piece_values = row
        head[2] = _time(head[2])
        piece = None
        if piece_values is not None:
            piece = SpanPiece(*piece_values)
            piece.start_time = _time(piece.start_time)
            piece.end_time = _time(piece.end_time)
        out.append(LiveEvent(EventRecord(*head), piece))
    return out
