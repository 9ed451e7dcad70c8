"""Lets go of what an operation's dataloaders loaded as soon as the operation ends.

Why: graphql-core's execution context and the compiled plans' closures form reference cycles that reach the
request's Context, and through its loaders every record they loaded (a 50,000-span trace is ~100 MB of
Python objects). Left alone, that waits for the cyclic collector's next full pass, which may be many
requests later, so memory grew with every big read and stayed up. Clearing the loaders here frees the
records by reference counting the moment the result is built; a later use of `context.loaders` (a
subscription's next payload) gets fresh ones.
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from graph.context import Context


class ReleaseLoaders(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, Context):
            context.release_loaders()
