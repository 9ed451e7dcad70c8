"""Configuration: README defaults, and a bad value stops start-up with a message naming its variable."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.app import create_app
from server.settings import Settings, SettingsError


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """An environment with no TRACEHOUSE_* variables but those a test sets."""
    for name in [n for n in os.environ if n.upper().startswith("TRACEHOUSE_")]:
        monkeypatch.delenv(name)
    yield monkeypatch


def test_defaults_are_the_readmes(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.chdir(tmp_path)
    s = Settings.from_env()
    assert s.data_dir == tmp_path.resolve() / "data"
    assert s.clickhouse_url == f"chdb://{tmp_path.resolve() / 'data' / 'clickhouse'}"
    assert s.database_url is None and s.bootstrap_api_key is None and s.model_prices_file is None
    assert (s.host, s.port, s.max_body_bytes, s.max_batch_items, s.clickhouse_pool_size) == (
        "127.0.0.1", 8000, 16_777_216, 10_000, 4)  # fmt: skip
    assert (s.graphql_ws_legacy, s.ws_init_timeout_seconds, s.max_subscriptions_per_connection) == (False, 5, 20)
    assert (s.subscriber_queue_size, s.live_retention_seconds) == (1000, 3600)
    assert (s.graphql_max_depth, s.graphql_max_aliases, s.graphql_max_tokens, s.graphql_max_cost) == (
        15, 30, 20_000, 1_000_000)  # fmt: skip
    assert s.graphql_dev_tools is True
    assert (s.rate_limit_per_second, s.log_format) == (500, "text")
    assert s.trim_after_response_bytes == 4 * 1024 * 1024


def test_values_are_read_from_their_variables(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text("{}")
    values = {
        "TRACEHOUSE_DATA_DIR": str(tmp_path / "d"),
        "TRACEHOUSE_DATABASE_URL": "postgresql://u:p@db:5432/th",
        "TRACEHOUSE_PORT": "9001",
        "TRACEHOUSE_MODEL_PRICES": str(prices),
        "TRACEHOUSE_PRODUCTION": "1",
        "TRACEHOUSE_GRAPHQL_WS_LEGACY": "yes",
        "TRACEHOUSE_RATE_LIMIT_PER_SECOND": "0",
        "TRACEHOUSE_LOG_FORMAT": "JSON",
        "TRACEHOUSE_BOOTSTRAP_API_KEY": "",  # empty is unset
    }
    for name, value in values.items():
        env.setenv(name, value)
    s = Settings.from_env()
    assert s.clickhouse_url == f"chdb://{tmp_path / 'd' / 'clickhouse'}"  # follows the data dir
    assert (s.database_url, s.port, s.model_prices_file) == ("postgresql://u:p@db:5432/th", 9001, str(prices))
    assert (s.graphql_dev_tools, s.graphql_ws_legacy, s.rate_limit_per_second) == (False, True, 0)
    assert (s.log_format, s.bootstrap_api_key) == ("json", None)


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("TRACEHOUSE_LOG_FORMAT", "xml", "'text' or 'json'"),
        ("TRACEHOUSE_MAX_BODY_BYTES", "-1", "greater than 0"),
        ("TRACEHOUSE_MAX_BATCH_ITEMS", "0", "greater than 0"),
        ("TRACEHOUSE_SUBSCRIBER_QUEUE_SIZE", "0", "greater than 0"),
        ("TRACEHOUSE_CLICKHOUSE_POOL_SIZE", "0", "greater than 0"),
        ("TRACEHOUSE_CLICKHOUSE_URL", "ftp://ch:8123", "http://, https://, chdb://"),
        ("TRACEHOUSE_CLICKHOUSE_URL", "localhost:8123", "http://, https://, chdb://"),
        ("TRACEHOUSE_CLICKHOUSE_URL", "http://ch:99999", "out of range"),
        ("TRACEHOUSE_DATABASE_URL", "mysql://db/th", "postgres://, postgresql://"),
        ("TRACEHOUSE_PORT", "70000", "less than or equal to 65535"),
        ("TRACEHOUSE_PORT", "0", "greater than or equal to 1"),
        ("TRACEHOUSE_PORT", "eighty", "valid integer"),
        ("TRACEHOUSE_GRAPHQL_MAX_COST", "1e6x", "valid integer"),
        ("TRACEHOUSE_WS_INIT_TIMEOUT_SECONDS", "soon", "valid number"),
        ("TRACEHOUSE_WS_INIT_TIMEOUT_SECONDS", "nan", "finite number"),
        ("TRACEHOUSE_RATE_LIMIT_PER_SECOND", "-1", "greater than or equal to 0"),
        ("TRACEHOUSE_COMMIT_HOLD_MS", "-5", "greater than or equal to 0"),
        ("TRACEHOUSE_COMMIT_HOLD_MS", "5000", "less than or equal to 1000"),
        ("TRACEHOUSE_COMMIT_HOLD_MS", "nan", "finite number"),
        ("TRACEHOUSE_LIVE_RETENTION_SECONDS", "0", "greater than 0"),
        ("TRACEHOUSE_PRODUCTION", "maybe", "valid boolean"),
        ("TRACEHOUSE_MODEL_PRICES", "/no/such/prices.json", "no such file"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(
    env: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    env.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    message = str(raised.value)
    assert f"{variable}: " in message and says in message, message
    assert len(message.splitlines()) == 2, message  # the one bad variable, nothing else


def test_every_bad_variable_is_named_at_once_and_secrets_are_not_repeated(env: pytest.MonkeyPatch) -> None:
    env.setenv("TRACEHOUSE_PORT", "-1")
    env.setenv("TRACEHOUSE_LOG_FORMAT", "yaml")
    env.setenv("TRACEHOUSE_DATABASE_URL", "mysql://admin:hunter2@db/th")
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    message = str(raised.value)
    for variable in ("TRACEHOUSE_PORT", "TRACEHOUSE_LOG_FORMAT", "TRACEHOUSE_DATABASE_URL"):
        assert variable in message
    assert "hunter2" not in message


def test_create_app_refuses_a_bad_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("TRACEHOUSE_SUBSCRIBER_QUEUE_SIZE", "0")
    with pytest.raises(SettingsError, match="TRACEHOUSE_SUBSCRIBER_QUEUE_SIZE"):
        create_app()


def test_settings_built_in_code_ignore_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("TRACEHOUSE_PORT", "not-a-port")
    env.setenv("TRACEHOUSE_PRODUCTION", "1")
    s = Settings(port=9000)
    assert (s.port, s.graphql_dev_tools) == (9000, True)
    assert s.model_copy(update={"production": True}).graphql_dev_tools is False


def test_serve_with_a_bad_value_exits_with_the_variable_named(tmp_path: Path) -> None:
    process_env = {name: value for name, value in os.environ.items() if not name.upper().startswith("TRACEHOUSE_")}
    process_env |= {"TRACEHOUSE_DATA_DIR": str(tmp_path), "TRACEHOUSE_PORT": "70000", "TRACEHOUSE_LOG_FORMAT": "xml"}
    exe = Path(sys.executable).parent / "tracehouse"
    done = subprocess.run([str(exe), "serve"], env=process_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done
    assert "TRACEHOUSE_PORT" in done.stderr and "TRACEHOUSE_LOG_FORMAT" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "postgres").exists()  # refused before any store was started


def test_keys_create_says_when_it_makes_a_new_store(tmp_path: Path) -> None:
    """A key made for another data dir than the server's gets 401: the CLI says when it starts a new store."""
    command = [str(Path(sys.executable).parent / "tracehouse"), "keys", "create", "--tenant", "t"]
    env = {**os.environ, "TRACEHOUSE_DATA_DIR": str(tmp_path / "elsewhere")}
    env.pop("TRACEHOUSE_DATABASE_URL", None)
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert first.returncode == 0, first.stderr
    assert f"no store in {tmp_path / 'elsewhere'} yet" in first.stderr
    assert first.stdout.strip().splitlines()[-1].startswith("th_")  # the key is still the last line
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert again.returncode == 0 and "no store in" not in again.stderr
