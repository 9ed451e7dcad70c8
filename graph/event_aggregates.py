"""EventAggregates: event counts in all and by type, actor type and resource type."""

from __future__ import annotations

import strawberry

from resolvers.records import Aggregates


@strawberry.type
class KeyCount:
    key: str
    count: int


def _counts(pairs: list[tuple[str, int]]) -> list[KeyCount]:
    return [KeyCount(key=k, count=c) for k, c in pairs]


@strawberry.type
class EventAggregates:
    total: int
    by_event_type: list[KeyCount]
    by_actor_type: list[KeyCount]
    by_resource_type: list[KeyCount]

    @classmethod
    def of(cls, a: Aggregates) -> EventAggregates:
        return cls(
            total=a.total,
            by_event_type=_counts(a.by_event_type),
            by_actor_type=_counts(a.by_actor_type),
            by_resource_type=_counts(a.by_resource_type),
        )
