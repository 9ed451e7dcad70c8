"""The Relay `Node` interface: every object a frontend caches can be refetched by one opaque id.

`id` keeps its meaning (Execution.id is the trace id, Span.id the span id, unique only within its
execution), so `nodeId` carries the global id that `node`/`nodes` take (Relay: `nodeInterfaceIdField`).
"""

from __future__ import annotations

import strawberry

from resolvers import node_ids


@strawberry.interface(description="An object that can be refetched with `node(id: nodeId)`.")
class Node:
    @strawberry.field(description="The object's own id: a trace id, a span id (unique within its execution) …")
    def id(self) -> strawberry.ID:
        raise NotImplementedError

    @strawberry.field(description="Globally unique, opaque and stable across restarts: pass it to `node`/`nodes`.")
    def node_id(self) -> strawberry.ID:
        return strawberry.ID(node_ids.encode(*self.node_key()))

    def node_key(self) -> tuple[str, ...]:
        """The type's name then its natural key."""
        raise NotImplementedError
