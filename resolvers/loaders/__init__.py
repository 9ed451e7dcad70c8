"""Per-request dataloaders, one per file, gathered in one typed container keyed to the caller's tenant."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from resolvers.loaders.actor_by_key import ActorByKeyLoader
from resolvers.loaders.event_by_id import EventByIdLoader
from resolvers.loaders.resource_by_key import ResourceByKeyLoader
from storage.clickhouse.client import ClickHouse


@dataclass
class Loaders:
    event_by_id: EventByIdLoader
    actor_by_key: ActorByKeyLoader
    resource_by_key: ResourceByKeyLoader

    @classmethod
    def build(cls, ch: ClickHouse, pg: asyncpg.Pool, tenant_id: str) -> Loaders:
        return cls(
            event_by_id=EventByIdLoader(ch, tenant_id),
            actor_by_key=ActorByKeyLoader(pg, tenant_id),
            resource_by_key=ResourceByKeyLoader(pg, tenant_id),
        )
