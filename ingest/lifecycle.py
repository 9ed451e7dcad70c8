"""Lifecycle event names (`<kind>.execution.<phase>`) and what each phase does to its span."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from ingest.records import SpanPiece

STARTED = "STARTED"
UPDATED = "UPDATED"
FINISHED = "FINISHED"

RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
STATUSES = (RUNNING, SUCCEEDED, FAILED, CANCELLED)
TERMINAL = (SUCCEEDED, FAILED, CANCELLED)

# phase -> (status it sets, whether it starts or ends the span)
_PHASES: dict[str, tuple[str, str]] = {
    "initiated": (RUNNING, STARTED),
    "started": (RUNNING, STARTED),
    "streaming": (RUNNING, UPDATED),
    "updated": (RUNNING, UPDATED),
    "paused": (RUNNING, UPDATED),
    "resumed": (RUNNING, UPDATED),
    "snapshotted": (RUNNING, UPDATED),
    "fulfilled": (SUCCEEDED, FINISHED),
    "completed": (SUCCEEDED, FINISHED),
    "succeeded": (SUCCEEDED, FINISHED),
    "rejected": (FAILED, FINISHED),
    "failed": (FAILED, FINISHED),
    "cancelled": (CANCELLED, FINISHED),
    "canceled": (CANCELLED, FINISHED),
}


# Names longer than this are parsed each time, never cached: the name is the client's, and a cache of
# unbounded keys would hold whatever a client sends (real names are ~10-60 characters).
CACHED_NAME_MAX = 256


def phase_of(name: str) -> tuple[str, str, str] | None:
    """(kind, status, change) for a lifecycle name such as `node.execution.fulfilled`, else None."""
    return _cached_phase_of(name) if len(name) <= CACHED_NAME_MAX else _phase_of(name)


def _phase_of(name: str) -> tuple[str, str, str] | None:
    head, _, phase = name.rpartition(".")
    known = _PHASES.get(phase)
    if not head or known is None:
        return None
    kind = head.split(".", 1)[0].upper()
    return kind, known[0], known[1]


# a few names recur in every batch: parsed once, not per event (at most 4,096 x 256 characters held)
_cached_phase_of = lru_cache(maxsize=4096)(_phase_of)


def lifecycle_fields(name: str, ts: datetime) -> tuple[str, str, datetime | None, datetime | None]:
    """(kind, status, start_time, end_time) of the span piece a lifecycle event implies ("", "", None, None)
    for a name that is not one), for an adapter that makes the piece in one call."""
    phase = phase_of(name)
    if phase is None:
        return "", "", None, None
    kind, status, change = phase
    return kind, status, ts if change == STARTED else None, ts if change == FINISHED else None


def lifecycle_piece(name: str, ts: datetime, parent_span_id: str = "") -> SpanPiece:
    """The span piece a lifecycle event implies: its kind and status, and its time as start or end."""
    kind, status, start_time, end_time = lifecycle_fields(name, ts)
    return SpanPiece(parent_span_id, "", kind, status, start_time, end_time)


def normalize_status(value: str) -> str | None:
    upper = value.strip().upper()
    if upper == "CANCELED":
        return CANCELLED
    if upper in ("SUCCESS", "COMPLETED", "FULFILLED"):
        return SUCCEEDED
    if upper in ("ERROR", "REJECTED"):
        return FAILED
    return upper if upper in STATUSES else None
