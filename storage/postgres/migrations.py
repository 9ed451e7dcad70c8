"""Versioned, forward-only Postgres migrations, applied at start-up under an advisory lock."""

from __future__ import annotations

from storage.postgres.connections import PgConnection

# A fixed advisory-lock key so concurrent starts of several processes migrate one at a time.
_LOCK_KEY = 0x7472616365  # "trace"

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "tenants, api keys, registries",
        [
            """
            CREATE TABLE tenants (
                id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
                name text NOT NULL UNIQUE,
                created_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            # Only a SHA-256 of the key is stored; the prefix helps people tell keys apart in listings.
            """
            CREATE TABLE api_keys (
                id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
                tenant_id text NOT NULL REFERENCES tenants(id),
                key_hash text NOT NULL UNIQUE,
                prefix text NOT NULL,
                scopes text[] NOT NULL DEFAULT ARRAY['admin'],
                created_at timestamptz NOT NULL DEFAULT now(),
                revoked_at timestamptz
            )
            """,
            """
            CREATE TABLE actors (
                tenant_id text NOT NULL REFERENCES tenants(id),
                type text NOT NULL,
                id text NOT NULL,
                display_name text,
                first_seen timestamptz NOT NULL,
                last_seen timestamptz NOT NULL,
                PRIMARY KEY (tenant_id, type, id)
            )
            """,
            """
            CREATE TABLE resources (
                tenant_id text NOT NULL REFERENCES tenants(id),
                type text NOT NULL,
                id text NOT NULL,
                name text,
                first_seen timestamptz NOT NULL,
                last_seen timestamptz NOT NULL,
                PRIMARY KEY (tenant_id, type, id)
            )
            """,
            # Workflow and node definitions seen in Vellum events.
            """
            CREATE TABLE definitions (
                tenant_id text NOT NULL REFERENCES tenants(id),
                kind text NOT NULL,
                id text NOT NULL,
                name text NOT NULL,
                module jsonb,
                first_seen timestamptz NOT NULL,
                last_seen timestamptz NOT NULL,
                PRIMARY KEY (tenant_id, kind, id)
            )
            """,
        ],
    ),
    (
        2,
        "live message log",
        [
            # The live bus's durable, ordered log: one row per tenant per group commit. NOTIFY carries only
            # the id (payloads are capped at 8,000 bytes); ids are the resume cursors of subscriptions.
            """
            CREATE TABLE live_messages (
                id bigserial PRIMARY KEY,
                tenant_id text NOT NULL,
                origin text NOT NULL,
                body bytea NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX live_messages_tenant_id ON live_messages (tenant_id, id)",
            "CREATE INDEX live_messages_created_at ON live_messages (created_at)",
        ],
    ),
    (
        3,
        "deletions and retention",
        [
            # Each deletion, recorded before it runs (state 'pending') and marked 'done' after: start-up
            # re-applies pending ones, so a crash mid-delete loses neither the delete nor other data.
            # `execution_ids` is the batch of executions being deleted right now (re-deleted on recovery), each a
            # JSON string (an execution id may hold NUL, which Postgres text cannot).
            """
            CREATE TABLE deletions (
                id bigserial PRIMARY KEY,
                tenant_id text NOT NULL REFERENCES tenants(id),
                key_id text NOT NULL,
                target text NOT NULL CHECK (target IN ('executions', 'events')),
                filter jsonb NOT NULL,
                state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
                execution_ids text[] NOT NULL DEFAULT '{}',
                events bigint NOT NULL DEFAULT 0,
                executions bigint NOT NULL DEFAULT 0,
                requested_at timestamptz NOT NULL DEFAULT now(),
                finished_at timestamptz
            )
            """,
            "CREATE INDEX deletions_tenant ON deletions (tenant_id, id)",
            "CREATE INDEX deletions_pending ON deletions (id) WHERE state = 'pending'",
            # Days of data a tenant keeps (NULL: the configured default, TRACEHOUSE_RETENTION_DAYS).
            "ALTER TABLE tenants ADD COLUMN retention_days integer CHECK (retention_days > 0)",
        ],
    ),
    (
        4,
        "live watch markers",
        [
            # Which process has (or recently had) a subscriber for which tenant (storage/postgres/live_bus.py):
            # one row per tenant and process, re-marked in place. They were rows of live_messages under the
            # key 'watch:<tenant>'; the latest of each moves here, so a watched tenant stays watched.
            """
            CREATE TABLE live_watches (
                tenant_id text NOT NULL,
                origin text NOT NULL,
                marked_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (tenant_id, origin)
            )
            """,
            "INSERT INTO live_watches (tenant_id, origin, marked_at) SELECT substr(tenant_id, 7), origin, "
            "max(created_at) FROM live_messages WHERE tenant_id LIKE 'watch:%' GROUP BY 1, 2",
            "DELETE FROM live_messages WHERE tenant_id LIKE 'watch:%'",
        ],
    ),
]


async def migrate(conn: PgConnection) -> list[int]:
    """Apply every unrecorded migration in order, all in one transaction (a failing statement leaves none of them
    applied, a crash too); returns versions applied."""
    applied: list[int] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, name, statements in MIGRATIONS:
            if version in done:
                continue
            for statement in statements:
                await conn.execute(statement)
            await conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name)
            applied.append(version)
    return applied
