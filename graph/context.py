"""The per-request GraphQL context: who is asking, the stores, and fresh dataloaders.

It holds the stores themselves, not the server's state, so imports keep flowing server → graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from strawberry.fastapi import BaseContext
from strawberry.types import Info as _Info

from ingest.writer import GroupCommitWriter
from resolvers.loaders import Loaders
from storage.clickhouse.client import ClickHouse
from storage.postgres.keys import Principal


@dataclass(frozen=True)
class Stores:
    ch: ClickHouse
    pg: asyncpg.Pool
    writer: GroupCommitWriter
    max_batch_items: int


class Context(BaseContext):
    def __init__(self, stores: Stores, principal: Principal) -> None:
        super().__init__()
        self.stores = stores
        self.principal = principal
        self.tenant_id = principal.tenant_id
        self.loaders = Loaders.build(stores.ch, stores.pg, principal.tenant_id)


Info = _Info[Context, Any]
