"""The span merge rules of storage/clickhouse/spans.py, applied piece by piece in memory for live updates.

Each field remembers the time of the piece that set it, so pieces arriving out of order merge to the
same state the stored spans show.
"""

from __future__ import annotations

import copy
from datetime import datetime

from ingest.lifecycle import TERMINAL
from ingest.records import SpanPiece
from storage.clickhouse.spans import SpanRecord
from storage.clickhouse.values import iso

STARTED = "STARTED"
UPDATED = "UPDATED"
FINISHED = "FINISHED"

# SpanRecord field <- SpanPiece field, for the "latest piece that says something" rule
_LATEST = {
    "parent_id": "parent_span_id", "name": "name", "kind": "kind", "inputs": "inputs", "outputs": "outputs",
    "error": "error", "attributes": "attributes", "usage": "usage", "cost": "cost",
}  # fmt: skip
_TOKENS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


class SpanState:
    def __init__(self, record: SpanRecord, fields_as_of: datetime | None = None, start_known: bool = True) -> None:
        """A stored span as the base: each field holds as of the piece that said it (its merge basis), or,
        without a basis, as of its latest piece (or `fields_as_of`)."""
        self.record = record
        as_of = fields_as_of or record.last_ts
        self._times: dict[str, datetime] = dict.fromkeys((*_LATEST, "status", "usage_tokens"), as_of)
        self._start_known = start_known
        self._end = record.end_time
        basis = record.basis
        if basis is not None:
            never = datetime.min.replace(tzinfo=as_of.tzinfo)
            self._times = {field: said or never for field, said in basis.said_at.items()}
            self._start_known = basis.start_given
            self._end = basis.given_end

    @classmethod
    def new(cls, execution_id: str, span_id: str, ts: datetime) -> SpanState:
        record = SpanRecord(execution_id, span_id, "", "", "", "RUNNING", ts, None, "", "", "", "", "", "", 0, 0, 0,
                            0, 0, ts, iso(ts), None)  # fmt: skip
        return cls(record, fields_as_of=datetime.min.replace(tzinfo=ts.tzinfo), start_known=False)

    def apply(self, piece: SpanPiece, ts: datetime) -> str:
        """Merge one piece; returns the change it made (STARTED, UPDATED or FINISHED)."""
        old = self.record
        r = copy.copy(old)  # a new record: updates already handed out keep the state they showed
        was_new, was_terminal = r.pieces == 0, r.status in TERMINAL
        for field, piece_field in _LATEST.items():
            value = getattr(piece, piece_field)
            if value and ts >= self._times[field]:
                setattr(r, field, value)
                self._times[field] = ts
        if piece.usage and ts >= self._times["usage_tokens"]:
            for token in _TOKENS:
                setattr(r, token, getattr(piece, token))
            self._times["usage_tokens"] = ts
        if piece.status in TERMINAL and ts >= self._times["status"]:
            r.status = piece.status
            self._times["status"] = ts
        if piece.start_time is not None and (not self._start_known or piece.start_time < r.start_time):
            r.start_time, self._start_known = piece.start_time, True
        elif not self._start_known and ts < r.start_time:
            r.start_time = ts
        # the latest end of any piece, shown once the span is terminal: a non-terminal piece's end counts
        # too (as in SQL's max(end_time)), whether it arrived before the terminal piece or after
        if piece.end_time is not None and (self._end is None or piece.end_time > self._end):
            self._end = piece.end_time
        r.end_time = self._end if r.status in TERMINAL else None
        r.pieces += 1
        r.last_ts = max(r.last_ts, ts)
        if r.start_time != old.start_time:
            r.start_iso = iso(r.start_time)
        if r.end_time != old.end_time:
            r.end_iso = iso(r.end_time) if r.end_time is not None else None
        self.record = r
        if was_new:
            return FINISHED if r.status in TERMINAL else STARTED
        if r.status in TERMINAL and not was_terminal:
            return FINISHED
        return UPDATED


def change_of_piece(piece: SpanPiece) -> str:
    """What a piece itself does, for replays where the base state already holds it."""
    if piece.status in TERMINAL:
        return FINISHED
    return STARTED if piece.start_time is not None else UPDATED
