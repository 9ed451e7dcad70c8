"""ActorStats: how many of an actor's events were successes, failures, and in all (see README)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.records import ActorStatsRecord

if TYPE_CHECKING:
    from graph.actor import Actor


@strawberry.type
class ActorStats:
    actor_type: str
    actor_id: str
    successes: int
    failures: int
    total: int

    @classmethod
    def of(cls, r: ActorStatsRecord) -> ActorStats:
        return cls(actor_type=r.actor_type, actor_id=r.actor_id, successes=r.successes, failures=r.failures,
                   total=r.total)  # fmt: skip

    @strawberry.field
    def actor(self) -> Annotated[Actor, strawberry.lazy("graph.actor")]:
        from graph.actor import Actor

        return Actor(type=self.actor_type, id=strawberry.ID(self.actor_id))
