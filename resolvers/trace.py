"""A whole trace in memory: spans in start order, by id, and by parent. One query fills it."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime

from storage.clickhouse.spans import SpanRecord


@dataclass
class Trace:
    spans: list[SpanRecord]  # (start_time, id) order, as the query returns them
    by_id: dict[str, SpanRecord] = field(default_factory=dict)
    children: dict[str, list[SpanRecord]] = field(default_factory=dict)
    roots: list[SpanRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_id = {s.id: s for s in self.spans}
        for span in self.spans:
            if span.parent_id and span.parent_id in self.by_id:
                self.children.setdefault(span.parent_id, []).append(span)
            else:
                # a span whose parent has not arrived yet is shown as a root until it does
                self.roots.append(span)

    def after(self, key: tuple[datetime, str] | None) -> list[SpanRecord]:
        """The spans strictly after the keyset (start_time, id)."""
        if key is None:
            return self.spans
        keys = [(s.start_time, s.id) for s in self.spans]
        return self.spans[bisect.bisect_right(keys, key) :]
