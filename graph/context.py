"""The per-request GraphQL context: who is asking, the stores, and fresh dataloaders.

It holds the stores themselves, not the server's state, so imports keep flowing server → graph.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from strawberry.fastapi import BaseContext
from strawberry.types import Info as _Info

from ingest.writer import GroupCommitWriter
from resolvers.loaders import Loaders
from resolvers.stores import ClickHouse, LiveBus, PgPool, Principal

# What the HTTP layer names of the stores (server/ imports graph/, not storage/): who is asking, and the
# error for a store that is down.
from resolvers.stores import StoreUnavailable as StoreUnavailable


@dataclass(frozen=True)
class Stores:
    ch: ClickHouse
    pg: PgPool
    writer: GroupCommitWriter
    max_batch_items: int
    bus: LiveBus | None = None
    # Whether an API key still works (a revoked key must end open websockets too).
    key_is_valid: Callable[[str], Awaitable[bool]] | None = None

    @property
    def live_bus(self) -> LiveBus:
        """The bus subscriptions read; a server always has one (stores built for queries alone may not)."""
        if self.bus is None:
            raise RuntimeError("these stores have no live bus")
        return self.bus


class Context(BaseContext):
    """An HTTP request's context is authenticated when built; a websocket's when `connection_init` arrives."""

    def __init__(self, stores: Stores, principal: Principal | None) -> None:
        super().__init__()
        self.stores = stores
        self.connection_params: dict[str, object] | None = None
        self.principal: Principal | None = None
        self.tenant_id = ""
        self.api_key: str | None = None
        self._loaders: Loaders | None = None
        # Whether the result goes straight to orjson, unread by Python code (graph/fast_execution.py: lists of
        # objects are then held as their encoded items).
        self.encode_items_early = False
        if principal is not None:
            self.authenticate(principal)

    def authenticate(self, principal: Principal) -> None:
        self.principal = principal
        self.tenant_id = principal.tenant_id
        self.refresh_loaders()

    async def guard(self) -> None:
        """Raise if the connection's key stopped working since it connected."""
        check = self.stores.key_is_valid
        if self.api_key is not None and check is not None and not await check(self.api_key):
            raise GraphQLError("the API key was revoked", extensions={"code": "UNAUTHENTICATED"})

    def refresh_loaders(self) -> None:
        """Fresh dataloaders: per request, and per subscription payload (cached data must not go stale).
        Built on first use: most live payloads select nothing that loads."""
        self._loaders = None

    def release_loaders(self) -> None:
        """Empty the loaders' caches and pending batches and drop them (graph/release_loaders.py says why)."""
        loaders, self._loaders = self._loaders, None
        if loaders is not None:
            loaders.release()

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            assert self.principal is not None
            self._loaders = Loaders.build(self.stores.ch, self.stores.pg, self.principal.tenant_id)
        return self._loaders


Info = _Info[Context, Any]
