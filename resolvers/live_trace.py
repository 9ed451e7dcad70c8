"""A trace whose spans change as live updates arrive.

Span fields `parent` and `children` look spans up in their trace on every update, and a live trace keeps
growing (a long run has tens of thousands of spans): lookups here are views over the live states and a
parent -> children index kept as spans move, so one update costs what its span's family costs, not what
the whole trace costs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from resolvers.live_merge import SpanState
from resolvers.trace import Trace
from storage.clickhouse.spans import SpanRecord


class _Records(Mapping[str, SpanRecord]):
    def __init__(self, states: dict[str, SpanState]) -> None:
        self._states = states

    def __getitem__(self, span_id: str) -> SpanRecord:
        return self._states[span_id].record

    def __iter__(self) -> Iterator[str]:
        return iter(self._states)

    def __len__(self) -> int:
        return len(self._states)


class _Children(Mapping[str, list[SpanRecord]]):
    """Children of a parent in (start_time, id) order, sorted when asked: only that family is touched."""

    def __init__(self, states: dict[str, SpanState], kids: dict[str, set[str]]) -> None:
        self._states, self._kids = states, kids

    def __getitem__(self, parent_id: str) -> list[SpanRecord]:
        records = [self._states[k].record for k in self._kids[parent_id]]
        return sorted(records, key=lambda r: (r.start_time, r.id))

    def __iter__(self) -> Iterator[str]:
        return iter(self._kids)

    def __len__(self) -> int:
        return len(self._kids)


class LiveTrace(Trace):
    def __init__(self, states: dict[str, SpanState]) -> None:
        self._states = states
        self._kids: dict[str, set[str]] = {}
        for span_id, state in states.items():
            self._link(span_id, state.record.parent_id)

    def moved(self, span_id: str, old_parent: str) -> None:
        """Record that a span's parent may have changed (an update can name it late)."""
        new_parent = self._states[span_id].record.parent_id
        if new_parent != old_parent:
            siblings = self._kids.get(old_parent)
            if siblings is not None:
                siblings.discard(span_id)
                if not siblings:
                    del self._kids[old_parent]
            self._link(span_id, new_parent)

    def _link(self, span_id: str, parent_id: str) -> None:
        if parent_id:
            self._kids.setdefault(parent_id, set()).add(span_id)

    # Views over the live index instead of Trace's dicts (read-only for every reader of a Trace).
    @property
    def by_id(self) -> Mapping[str, SpanRecord]:  # type: ignore[override]
        return _Records(self._states)

    @property
    def children(self) -> Mapping[str, list[SpanRecord]]:  # type: ignore[override]
        return _Children(self._states, self._kids)
