"""Settings read from the environment (DESIGN.md, "Configuration and commands")."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _flag(env: dict[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./data")
    clickhouse_url: str = ""
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    bootstrap_api_key: str | None = None
    # Request limits: bodies above max_body_bytes and batches above max_batch_items get 413.
    max_body_bytes: int = 16 * 1024 * 1024
    max_batch_items: int = 10_000
    # chDB serializes calls per handle, so concurrent reads want a few handles.
    clickhouse_pool_size: int = 4
    # How long a resolved API key is trusted before Postgres is asked again.
    key_cache_seconds: float = 5.0
    # Live subscriptions (graphql-transport-ws at /graphql).
    graphql_ws_legacy: bool = False  # also offer the legacy `graphql-ws` protocol
    ws_init_timeout_seconds: float = 5.0
    max_subscriptions_per_connection: int = 20
    subscriber_queue_size: int = 1000
    subscriber_queue_bytes: int = 4 * 1024 * 1024  # the same bound in encoded bytes: whichever comes first
    live_retention_seconds: int = 3600
    model_prices_file: str | None = None  # JSON overriding/extending the shipped model price table
    # GraphQL abuse limits; dev_tools = introspection, GraphiQL and field suggestions (off in production).
    graphql_max_depth: int = 15
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 20_000
    graphql_max_cost: int = 1_000_000
    graphql_dev_tools: bool = True
    # Per-key rate limit (requests per second, with bursts up to twice that); 0 turns it off.
    rate_limit_per_second: float = 500.0
    log_format: str = "text"  # or "json"

    @property
    def embedded_postgres_dir(self) -> Path:
        return self.data_dir / "postgres"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("TRACEHOUSE_DATA_DIR") or "./data").expanduser().resolve()
        clickhouse_url = env.get("TRACEHOUSE_CLICKHOUSE_URL") or f"chdb://{data_dir / 'clickhouse'}"
        return cls(
            data_dir=data_dir,
            clickhouse_url=clickhouse_url,
            database_url=env.get("TRACEHOUSE_DATABASE_URL") or None,
            host=env.get("TRACEHOUSE_HOST") or "127.0.0.1",
            port=_int(env, "TRACEHOUSE_PORT", 8000),
            bootstrap_api_key=env.get("TRACEHOUSE_BOOTSTRAP_API_KEY") or None,
            max_body_bytes=_int(env, "TRACEHOUSE_MAX_BODY_BYTES", 16 * 1024 * 1024),
            max_batch_items=_int(env, "TRACEHOUSE_MAX_BATCH_ITEMS", 10_000),
            clickhouse_pool_size=_int(env, "TRACEHOUSE_CLICKHOUSE_POOL_SIZE", 4),
            graphql_ws_legacy=_flag(env, "TRACEHOUSE_GRAPHQL_WS_LEGACY"),
            ws_init_timeout_seconds=float(env.get("TRACEHOUSE_WS_INIT_TIMEOUT_SECONDS") or 5.0),
            max_subscriptions_per_connection=_int(env, "TRACEHOUSE_MAX_SUBSCRIPTIONS_PER_CONNECTION", 20),
            subscriber_queue_size=_int(env, "TRACEHOUSE_SUBSCRIBER_QUEUE_SIZE", 1000),
            subscriber_queue_bytes=_int(env, "TRACEHOUSE_SUBSCRIBER_QUEUE_BYTES", 4 * 1024 * 1024),
            live_retention_seconds=_int(env, "TRACEHOUSE_LIVE_RETENTION_SECONDS", 3600),
            model_prices_file=env.get("TRACEHOUSE_MODEL_PRICES") or None,
            graphql_max_depth=_int(env, "TRACEHOUSE_GRAPHQL_MAX_DEPTH", 15),
            graphql_max_aliases=_int(env, "TRACEHOUSE_GRAPHQL_MAX_ALIASES", 30),
            graphql_max_tokens=_int(env, "TRACEHOUSE_GRAPHQL_MAX_TOKENS", 20_000),
            graphql_max_cost=_int(env, "TRACEHOUSE_GRAPHQL_MAX_COST", 1_000_000),
            graphql_dev_tools=not _flag(env, "TRACEHOUSE_PRODUCTION"),
            rate_limit_per_second=float(env.get("TRACEHOUSE_RATE_LIMIT_PER_SECOND") or 500.0),
            log_format=(env.get("TRACEHOUSE_LOG_FORMAT") or "text").lower(),
        )
