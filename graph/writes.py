"""What the write mutations do: canonical inputs → canonical batch → group commit, errors as GraphQL errors.

Here in graph/ because graph/ may call ingest/; resolvers/ sits beside ingest/ and may not.
"""

from __future__ import annotations

from typing import Any

from ingest import canonical
from ingest.records import Batch
from ingest.validation import InvalidInput
from ingest.writer import GroupCommitWriter
from resolvers.errors import bad_input, unavailable
from resolvers.stores import StoreUnavailable


async def _write(writer: GroupCommitWriter, tenant_id: str, batch: Batch) -> list[str]:
    try:
        await writer.write(tenant_id, batch)
    except StoreUnavailable as exc:
        raise unavailable(f"{exc.store} is unavailable; nothing was stored, retry later") from None
    return batch.ids


def _adapt(fn: Any, items: list[dict[str, Any]], limit: int) -> Batch:
    if len(items) > limit:
        raise bad_input(f"batch of {len(items)} items exceeds the limit of {limit}", None)
    try:
        return fn(items)
    except InvalidInput as exc:
        raise bad_input(str(exc), exc.field) from None


async def ingest_events(
    writer: GroupCommitWriter, tenant_id: str, items: list[dict[str, Any]], limit: int
) -> list[str]:
    return await _write(writer, tenant_id, _adapt(canonical.adapt_events, items, limit))


async def log_spans(writer: GroupCommitWriter, tenant_id: str, items: list[dict[str, Any]], limit: int) -> list[str]:
    return await _write(writer, tenant_id, _adapt(canonical.adapt_spans, items, limit))
