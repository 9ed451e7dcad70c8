from __future__ import annotations

from strawberry.dataloader import DataLoader

from storage.postgres.connections import PgPool
from storage.postgres.entities import EntityRecord, entities_by_keys


class ActorByKeyLoader(DataLoader[tuple[str, str], EntityRecord | None]):
    """Actors of one tenant by (type, id) from the Postgres registry: one query per batch."""

    def __init__(self, pg: PgPool, tenant_id: str) -> None:
        async def load(keys: list[tuple[str, str]]) -> list[EntityRecord | None]:
            found = await entities_by_keys(pg, "actors", tenant_id, list(set(keys)))
            return [found.get(k) for k in keys]

        super().__init__(load_fn=load)
