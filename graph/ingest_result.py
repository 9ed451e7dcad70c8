from __future__ import annotations

import strawberry


@strawberry.type(description="What a write stored: how many items, and their event ids in input order.")
class IngestResult:
    count: int
    success: bool
    event_ids: list[strawberry.ID]
