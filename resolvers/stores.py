"""The handles a GraphQL context carries (the stores, the live bus, who is asking), for graph/ to name.

graph/context.py builds the per-request context from these; resolvers pass them on to storage. A write
that finds a store down raises StoreUnavailable, which the mutations answer as SERVICE_UNAVAILABLE.
"""

from __future__ import annotations

from storage.clickhouse.client import ClickHouse
from storage.errors import StoreUnavailable
from storage.postgres.connections import PgPool
from storage.postgres.keys import Principal
from storage.postgres.live_bus import LiveBus

__all__ = ["ClickHouse", "LiveBus", "PgPool", "Principal", "StoreUnavailable"]
