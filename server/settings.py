"""Settings read from the environment (DESIGN.md, "Configuration and commands").

One field per setting, read from `TRACEHOUSE_<FIELD>` (or the alias it names) by pydantic-settings, so a
bad value (a word where a number goes, a size of 0, a URL of the wrong kind) stops start-up with a
`SettingsError` naming the variable, instead of failing later, deep in a store or a request.
`Settings(...)` built in code takes only what it is given (tests stay hermetic); `from_env()` reads the
environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    field_validator,
)
from pydantic_core.core_schema import ValidationInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "TRACEHOUSE_"
# Values of these are not repeated in error messages: they may carry passwords or keys.
_SECRET = frozenset({"clickhouse_url", "database_url", "bootstrap_api_key"})


class SettingsError(ValueError):
    """The environment holds values Tracehouse cannot start with; the message names each variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True, extra="forbid", validate_by_name=True,
        allow_inf_nan=False,
    )  # fmt: skip

    data_dir: Path = Field(Path("./data"), validate_default=True)
    clickhouse_url: str = Field("", validate_default=True)  # empty: chDB under data_dir
    database_url: str | None = None  # None: embedded Postgres under data_dir
    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(8000, ge=1, le=65535)
    bootstrap_api_key: str | None = None
    # Request limits: bodies above max_body_bytes and batches above max_batch_items get 413.
    max_body_bytes: PositiveInt = 16 * 1024 * 1024
    max_batch_items: PositiveInt = 10_000
    # chDB serializes calls per handle, so concurrent reads want a few handles.
    clickhouse_pool_size: PositiveInt = 4
    # Group commit: at most this many ClickHouse inserts in flight; requests arriving meanwhile wait and go
    # together into the next one (fewer, bigger inserts cost less per row).
    insert_parallel: PositiveInt = 3
    # While several clients write at once, a commit of fewer than 4,000 rows waits up to this long for more
    # requests (chDB costs less CPU per row in bigger inserts); 0 turns the hold off (ingest/writer.py). At most a
    # second: beyond it a hold would stall a bulk client's acknowledgements rather than batch them.
    commit_hold_ms: float = Field(30.0, ge=0, le=1_000)
    # How long a resolved API key is trusted before Postgres is asked again.
    key_cache_seconds: NonNegativeFloat = 5.0
    # Live subscriptions (graphql-transport-ws at /graphql).
    graphql_ws_legacy: bool = False  # also offer the legacy `graphql-ws` protocol
    ws_init_timeout_seconds: PositiveFloat = 5.0
    max_subscriptions_per_connection: PositiveInt = 20
    subscriber_queue_size: PositiveInt = 1000
    subscriber_queue_bytes: PositiveInt = 4 * 1024 * 1024  # the same bound in encoded bytes: whichever comes first
    live_retention_seconds: PositiveInt = 3600
    # JSON overriding/extending the shipped model price table.
    model_prices_file: str | None = Field(None, validation_alias="TRACEHOUSE_MODEL_PRICES")
    # GraphQL abuse limits; production turns off introspection, GraphiQL and field suggestions.
    graphql_max_depth: PositiveInt = 15
    graphql_max_aliases: PositiveInt = 30
    graphql_max_tokens: PositiveInt = 20_000
    graphql_max_cost: PositiveInt = 1_000_000
    production: bool = False
    # Per-key rate limit (requests per second, with bursts up to twice that); 0 turns it off.
    rate_limit_per_second: NonNegativeFloat = 500.0
    log_format: Literal["text", "json"] = "text"
    # /metrics answers only `Authorization: Bearer <metrics_token>`; unset, it is off (403).
    metrics_token: str | None = None
    metrics_max_operations: PositiveInt = 50  # distinct GraphQL operation labels; later new names count as "other"
    # /readyz answers 503 when the data dir or ClickHouse's disk has less room than this.
    min_free_disk_mb: int = Field(512, ge=0)
    cors_origins: str = ""  # comma-separated origins browsers may call from (server/cors.py)
    # Days of data every tenant keeps unless `tracehouse tenants set-retention` says otherwise; unset: forever.
    retention_days: PositiveInt | None = None
    retention_check_seconds: PositiveFloat = 60.0  # how soon a changed retention setting reaches ClickHouse
    # After an HTTP response of at least this many bytes, malloc's free memory goes back to the OS
    # (server/memory_trim.py); 0 turns it off.
    trim_after_response_bytes: NonNegativeInt = 4 * 1024 * 1024

    @property
    def graphql_dev_tools(self) -> bool:
        return not self.production

    @property
    def embedded_postgres_dir(self) -> Path:
        return self.data_dir / "postgres"

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, path: Path) -> Path:
        return path.expanduser().resolve()

    @field_validator("clickhouse_url")
    @classmethod
    def _clickhouse_url(cls, url: str, info: ValidationInfo) -> str:
        if not url:
            data_dir = info.data.get("data_dir")  # absent only when data_dir itself was refused
            return f"chdb://{data_dir / 'clickhouse'}" if data_dir else url
        return _url_with_scheme(url, ("http", "https", "chdb"))

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, url: str | None) -> str | None:
        return _url_with_scheme(url, ("postgres", "postgresql")) if url else None

    @field_validator("model_prices_file")
    @classmethod
    def _prices_file_exists(cls, path: str | None) -> str | None:
        if path and not Path(path).is_file():
            raise ValueError(f"no such file: {path}")
        return path or None

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:  # fmt: skip
        return (init_settings,)  # the environment is read by from_env only

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from the TRACEHOUSE_* environment; a bad value raises SettingsError naming its variable."""
        try:
            return cls(**EnvSettingsSource(cls)())
        except ValidationError as exc:
            raise SettingsError(cls._describe(exc)) from None

    @classmethod
    def env_name(cls, field: str) -> str:
        alias = cls.model_fields[field].validation_alias
        return alias if isinstance(alias, str) else f"{ENV_PREFIX}{field.upper()}"

    @classmethod
    def _describe(cls, exc: ValidationError) -> str:
        lines = ["invalid configuration:"]
        for error in exc.errors(include_url=False):
            loc = str(error["loc"][0]) if error["loc"] else ""
            field = next((name for name in cls.model_fields if loc in (name, cls.env_name(name))), None)
            if field is None:  # not one of ours; shown as pydantic names it
                lines.append(f"  {loc}: {error['msg']}")
                continue
            msg = error["msg"].removeprefix("Value error, ")
            shown = "" if field in _SECRET else f" (got {error['input']!r})"
            lines.append(f"  {cls.env_name(field)}: {msg}{shown}")
        return "\n".join(lines)


def _url_with_scheme(url: str, schemes: tuple[str, ...]) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number or out of range
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    if parts.scheme.lower() not in schemes:
        wanted = ", ".join(f"{s}://" for s in schemes)
        raise ValueError(f"must start with one of {wanted}; got scheme {parts.scheme or '(none)'!r}")
    return url
