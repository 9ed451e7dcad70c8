"""What a write reads back before it writes: HoneyHive's `PUT /events` names an event (a span) by id alone
and merges into what is stored, so it needs the stored span first."""

from __future__ import annotations

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.span_lookup import span_by_id
from storage.clickhouse.spans import SpanRecord

# What HoneyHive's SDK writes: its events and sessions, and its tracer's spans (OTLP).
HONEYHIVE_SOURCES = ("honeyhive", "otlp")


async def stored_span(ch: ClickHouse, tenant_id: str, span_id: str) -> SpanRecord | None:
    """The merged HoneyHive span with this id in the tenant (a session is its root span), or None: another
    format's span that happens to share the id is not HoneyHive's to update."""
    return await span_by_id(ch, tenant_id, span_id, HONEYHIVE_SOURCES)
