"""Versioned, forward-only ClickHouse migrations, applied at start-up and recorded in schema_migrations.

Every statement is idempotent (IF NOT EXISTS), so two processes starting together, or a crash between a
statement and its record, are safe: the next start re-runs the unrecorded version harmlessly.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from storage.clickhouse.client import ClickHouse
from storage.clickhouse.search import SEARCH_TEXT

log = logging.getLogger(__name__)


class Tuning(str):
    """A statement that only tunes the server (a table setting): a ClickHouse too old to know the setting
    skips it with a warning instead of refusing to start."""

# The columns both tables share: a span "piece" is the span-shaped part of one event.
_SPAN_PIECE_COLUMNS = """
    parent_span_id String,
    span_name String,
    span_kind LowCardinality(String),
    span_status LowCardinality(String),
    start_time Nullable(DateTime64(6, 'UTC')),
    end_time Nullable(DateTime64(6, 'UTC')),
    inputs String,
    outputs String,
    error String,
    attributes String,
    usage String,
    cost String,
    input_tokens UInt64,
    output_tokens UInt64,
    cache_creation_input_tokens UInt64,
    cache_read_input_tokens UInt64
"""

# A piece's `session.id` attribute: the position() guard keeps JSON parsing to the pieces that name one.
_SESSION_ID = "if(position(attributes, '\"session.id\"') > 0, JSONExtractString(attributes, 'session.id'), '')"

# A step is one idempotent statement, or a function for a step that must look at the store first (a table
# rebuilt under its own name: every state a crash can leave it in is resumed, see rekey_events).
Step = str | Callable[[ClickHouse], Awaitable[None]]


def _events_table(name: str, order_by: str) -> str:
    return f"""
            CREATE TABLE IF NOT EXISTS {name} (
                tenant_id String,
                id String,
                name LowCardinality(String),
                timestamp DateTime64(6, 'UTC'),
                source LowCardinality(String),
                execution_id String,
                span_id String,
                actor_type LowCardinality(String),
                actor_id String,
                resource_type LowCardinality(String),
                resource_id String,
                correlation_id String,
                causation_id String,
                outcome LowCardinality(String),
                payload String,
                is_span UInt8,
                {_SPAN_PIECE_COLUMNS},
                ingested_at DateTime64(6, 'UTC') DEFAULT now64(6),
                INDEX idx_execution execution_id TYPE bloom_filter GRANULARITY 4,
                INDEX idx_correlation correlation_id TYPE bloom_filter GRANULARITY 4,
                INDEX idx_resource resource_id TYPE bloom_filter GRANULARITY 4,
                INDEX idx_actor actor_id TYPE bloom_filter GRANULARITY 4,
                INDEX idx_timestamp timestamp TYPE minmax GRANULARITY 1
            )
            ENGINE = ReplacingMergeTree(ingested_at)
            ORDER BY ({order_by})
            """


_SPANS_VIEW = """
            CREATE MATERIALIZED VIEW IF NOT EXISTS spans_from_events TO spans AS
            SELECT tenant_id, execution_id, span_id, id AS event_id, name AS event_name, timestamp AS ts,
                   parent_span_id, span_name, span_kind, span_status, start_time, end_time, inputs, outputs,
                   error, attributes, usage, cost, input_tokens, output_tokens, cache_creation_input_tokens,
                   cache_read_input_tokens, ingested_at{extra}
            FROM events WHERE is_span = 1
            """
_EVENT_COLUMNS_V1 = (
    "tenant_id, id, name, timestamp, source, execution_id, span_id, actor_type, actor_id, resource_type, "
    "resource_id, correlation_id, causation_id, outcome, payload, is_span, parent_span_id, span_name, span_kind, "
    "span_status, start_time, end_time, inputs, outputs, error, attributes, usage, cost, input_tokens, "
    "output_tokens, cache_creation_input_tokens, cache_read_input_tokens, ingested_at"
)


async def _sorting_key(ch: ClickHouse, table: str) -> str | None:
    rows = await ch.query(
        "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = {t:String}", {"t": table}
    )
    return str(rows.rows[0][0]) if rows.rows else None


async def rekey_events(ch: ClickHouse) -> None:
    """Migration 4: `events` sorted by (tenant_id, id, source) instead of (tenant_id, id), so two formats that
    send the same id (the seed documents' placeholder "string") keep both events, while one format sending
    an id again still replaces its own row. A sorting key cannot take an existing column, so the table is
    copied into `events_v4` and renamed over `events`; the old table is dropped last. A crash anywhere
    leaves a state the next start resumes from: the copy is redone from the start (ReplacingMergeTree makes
    a second copy of a row the same row), and the rename is finished if it was half done. Run it with
    writers stopped (the server migrates before it listens): rows written to the old table during the copy
    would not be copied."""
    key = await _sorting_key(ch, "events")
    renamed = False
    if key is None and await _sorting_key(ch, "events_v4") is not None:
        await ch.command("RENAME TABLE events_v4 TO events")  # a crash between the two renames
        renamed = True
    elif key is not None and "source" not in key:
        await ch.command("DROP TABLE IF EXISTS events_v4")
        await ch.command(_events_table("events_v4", "tenant_id, id, source"))
        await ch.command(
            f"INSERT INTO events_v4 ({_EVENT_COLUMNS_V1}) SELECT {_EVENT_COLUMNS_V1} FROM events"
        )
        await ch.command("RENAME TABLE events TO events_v3, events_v4 TO events")
        renamed = True
    if renamed and await _sorting_key(ch, "retention_applied") is not None:
        # the new table has no TTL yet: recorded as having none, the retention is applied to it again
        await ch.insert("retention_applied", [("events", "")], ["table_name", "expression"])
    # The view follows the table it was made on, so it is made again on the new `events` (and now also
    # carries the source into `spans`); the old table goes once nothing reads it.
    await ch.command("DROP VIEW IF EXISTS spans_from_events")
    await ch.command(_SPANS_VIEW.format(extra=", source"))
    await ch.command("DROP TABLE IF EXISTS events_v3")


MIGRATIONS: list[tuple[int, str, list[Step]]] = [
    (
        1,
        "events and spans",
        [
            # Immutable facts. Sorted by (tenant_id, id) so the same id is one row after merges
            # (ReplacingMergeTree) and reads dedupe with FINAL; the skip indexes serve the other lookups.
            _events_table("events", "tenant_id, id"),
            # One row per span piece; a trace is one contiguous key range (tenant_id, execution_id).
            f"""
            CREATE TABLE IF NOT EXISTS spans (
                tenant_id String,
                execution_id String,
                span_id String,
                event_id String,
                event_name LowCardinality(String),
                ts DateTime64(6, 'UTC'),
                {_SPAN_PIECE_COLUMNS},
                ingested_at DateTime64(6, 'UTC')
            )
            ENGINE = ReplacingMergeTree(ingested_at)
            ORDER BY (tenant_id, execution_id, span_id, event_id)
            """,
            # Spans are written by the same insert as their events, so one insert per flush covers both.
            _SPANS_VIEW.format(extra=""),
        ],
    ),
    (
        2,
        "lower write amplification of merges",
        [
            # Ingest writes many small parts; the default merge policy (base 5) rewrote them so often that
            # background merges took as much CPU as the inserts themselves. Base 20 merges more parts at
            # once and less often: ~25% less CPU per row ingested (bench/ingest.py), with part counts
            # (and so read cost) of the same order.
            Tuning("ALTER TABLE events MODIFY SETTING merge_selector_base = 20"),
            Tuning("ALTER TABLE spans MODIFY SETTING merge_selector_base = 20"),
        ],
    ),
    (
        3,
        "text search index on spans",
        [
            # Case-insensitive substring search (storage/clickhouse/search.py) over the lower-cased name,
            # inputs, outputs and error: an n-gram bloom filter answers LIKE '%text%' per granule. Trigrams;
            # 64 KiB per granule of 8,192 pieces with ~300-character texts keeps false positives low
            # (bench/analytics.py). New parts get it on insert; MATERIALIZE builds it for parts written before
            # this migration (a background mutation: until it ends those parts are read, not skipped).
            f"ALTER TABLE spans ADD INDEX IF NOT EXISTS idx_search {SEARCH_TEXT} "
            "TYPE ngrambf_v1(3, 65536, 2, 0) GRANULARITY 1",
            "ALTER TABLE spans MATERIALIZE INDEX idx_search",
        ],
    ),
    (
        4,
        "event ids are per format",
        [
            # A span piece keeps its event's source in its key too: two formats writing the same event id into
            # the same span keep both pieces. Appending a column new to the table to the sorting key is a
            # metadata change (rows written before have '' there, already in order).
            "ALTER TABLE spans ADD COLUMN IF NOT EXISTS source LowCardinality(String) AFTER event_id, "
            "MODIFY ORDER BY (tenant_id, execution_id, span_id, event_id, source)",
            rekey_events,
            Tuning("ALTER TABLE events MODIFY SETTING merge_selector_base = 20"),
        ],
    ),
    (
        7,
        "retention: the TTL applied",
        [
            # The retention TTL last applied to each table (storage/clickhouse/retention.py), so a start or a
            # check that finds the same settings does not rewrite the tables again.
            "CREATE TABLE IF NOT EXISTS retention_applied (table_name String, expression String, "
            "applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree(applied_at) "
            "ORDER BY table_name",
        ],
    ),
    (
        8,
        "annotations",
        [
            # Feedback on an execution ('' span_id) or a span: storage/clickhouse/annotations.py says why
            # here and how ids replace. One key range per execution; the bloom filter serves the
            # name filter of executions and score series, the minmax index their time range.
            """
            CREATE TABLE IF NOT EXISTS annotations (
                tenant_id String,
                execution_id String,
                span_id String,
                id String,
                name String,
                score Nullable(Float64),
                label Nullable(String),
                comment Nullable(String),
                source LowCardinality(String),
                origin LowCardinality(String),
                author String,
                metadata String,
                created_at DateTime64(6, 'UTC'),
                ingested_at DateTime64(6, 'UTC') DEFAULT now64(6),
                INDEX idx_name name TYPE bloom_filter GRANULARITY 4,
                INDEX idx_created created_at TYPE minmax GRANULARITY 1
            )
            ENGINE = ReplacingMergeTree(ingested_at)
            ORDER BY (tenant_id, execution_id, span_id, id)
            """,
        ],
    ),
    (
        9,
        "session ids of span pieces",
        [
            # The OpenInference `session.id` a piece's attributes name ('' when none), computed on insert (the
            # view's rows into `spans` get it like any insert), so an execution's session and the sessionId
            # filter read one narrow column instead of every piece's attributes. MATERIALIZE writes it into
            # the parts from before this migration (a background mutation, resumed after a restart; until it
            # ends those parts compute it on read, the same value).
            f"ALTER TABLE spans ADD COLUMN IF NOT EXISTS session_id String MATERIALIZED {_SESSION_ID}",
            "ALTER TABLE spans MATERIALIZE COLUMN session_id SETTINGS mutations_sync = 0",
        ],
    ),
    (
        10,
        "events: a key hash and LowCardinality actor ids for analytics",
        [
            # Analytics read each event once without merging every id (storage/clickhouse/deduplicated.py):
            # the hash of the key finds, in 8 bytes a row, the rows that may have another version.
            "ALTER TABLE events ADD COLUMN IF NOT EXISTS key_hash UInt64 MATERIALIZED cityHash64(id, source)",
            # actorStats groups by the actor id: a dictionary-encoded column groups at half the CPU of a
            # String one (few actors, many events each).
            # Both rewrite stored parts in the background, so a big store starts without waiting for them
            # (chDB waits by default): until a part is rewritten, reads compute the hash and convert the type.
            "ALTER TABLE events MATERIALIZE COLUMN key_hash SETTINGS mutations_sync = 0",
            "ALTER TABLE events MODIFY COLUMN actor_id LowCardinality(String) "
            "SETTINGS mutations_sync = 0, alter_sync = 0",
        ],
    ),
    (
        11,
        "small parts in one file",
        [
            # Every insert writes a part per table, and every merge deletes the parts it merged: a dozen files
            # created and later deleted a part. On ext4, creating files soon after many were deleted is slow
            # (the inode allocator skips inodes freed in the last minute or more, reading each one's table
            # block): measured after a few thousand parts were deleted, a 4,000-event insert took 8-10 µs of
            # CPU an event, much of it in the kernel, instead of ~4. Parts under 10 MiB (what inserts write,
            # before merges make them bigger) are stored "packed", as one file.
            *(
                Tuning(f"ALTER TABLE {table} MODIFY SETTING min_bytes_for_full_part_storage = 10485760")
                for table in ("events", "spans", "annotations")
            ),
        ],
    ),
]


async def migrate(ch: ClickHouse) -> list[int]:
    """Apply every unrecorded migration in order; returns the versions applied now."""
    await ch.command(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, "
        "applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree ORDER BY version"
    )
    done = {row[0] for row in (await ch.query("SELECT version FROM schema_migrations FINAL")).rows}
    applied: list[int] = []
    for version, name, statements in MIGRATIONS:
        if version in done:
            continue
        for statement in statements:
            await apply(ch, statement)
        await ch.insert("schema_migrations", [(version, name)], ["version", "name"])
        applied.append(version)
    return applied


async def apply(ch: ClickHouse, statement: Step) -> None:
    if not isinstance(statement, str):
        await statement(ch)
        return
    try:
        await ch.command(statement)
    except Exception as exc:
        if not isinstance(statement, Tuning) or "unknown setting" not in str(exc).lower():
            raise
        log.warning("skipped a tuning statement this ClickHouse does not support: %s (%s)", statement, exc)
