"""Typed references to registry entries shared by Actor and Resource."""

from __future__ import annotations

import strawberry


@strawberry.input(description="A reference to an actor or resource: its type and id.")
class EntityRefInput:
    type: str
    id: str
