"""Retention: `tracehouse tenants set-retention` writes the setting, the server turns it into ClickHouse TTL,
and materializing the TTL removes the tenant's rows older than that, from data stored before the change;
another tenant's data is untouched. Tenant ids reach the TTL statement only quoted."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.cli import parse_retention
from server.state import AppState
from storage.clickhouse import retention
from tests.conftest import Tenant
from tests.process import ServerProcess

NOW = datetime.now(UTC).replace(microsecond=0)


def cli(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRACEHOUSE_DATABASE_URL": database_url, "TRACEHOUSE_DATA_DIR": str(data_dir)}
    exe = Path(sys.executable).parent / "tracehouse"
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def _at(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")


async def _store(tenant: Tenant) -> None:
    events = [{"name": f"audit.{age}d", "timestamp": _at(age)} for age in (60, 1)]
    await tenant.gql_data("mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }", {"e": events})
    spans = [{"id": "root", "executionId": f"run-{age}d", "name": "plan", "status": "SUCCEEDED",
              "startTime": _at(age), "endTime": _at(age)} for age in (60, 1)]  # fmt: skip
    await tenant.gql_data("mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }", {"s": spans})


async def _kept(tenant: Tenant) -> dict[str, Any]:
    data = await tenant.gql_data("""{ events(first: 100, filter: {names: ["audit.60d", "audit.1d"]}) {
        edges { node { name } } } executions { edges { node { id } } } }""")
    return {
        "events": sorted(e["node"]["name"] for e in data["events"]["edges"]),
        "executions": sorted(e["node"]["id"] for e in data["executions"]["edges"]),
    }


async def test_retention_set_by_the_cli_removes_older_rows_once_materialized(
    tenant: Tenant, other_tenant: Tenant, state: AppState, database_url: str, tmp_path: Path
) -> None:
    for t in (tenant, other_tenant):
        await _store(t)
    everything = {"events": ["audit.1d", "audit.60d"], "executions": ["run-1d", "run-60d"]}
    assert await _kept(tenant) == everything

    done = cli(database_url, tmp_path, "tenants", "set-retention", tenant.name, "30d")
    assert done.returncode == 0, done.stderr
    assert f"tenant {tenant.name!r} keeps 30 days" in done.stdout
    listed = cli(database_url, tmp_path, "tenants", "list").stdout
    assert f"{tenant.name}  " in listed and "retention 30d" in listed.split(tenant.name, 1)[1].splitlines()[0]

    assert state.retention is not None
    await state.retention.check(wait=True)  # what the server does at start and every check; waits to materialize
    await retention.materialize(state.ch)  # and materialized again in the test, whatever the check found to do
    assert await _kept(tenant) == {"events": ["audit.1d"], "executions": ["run-1d"]}
    assert await _kept(other_tenant) == everything  # another tenant keeps everything

    cleared = cli(database_url, tmp_path, "tenants", "set-retention", tenant.name, "forever")
    assert cleared.returncode == 0 and "the default (forever)" in cleared.stdout
    await state.retention.check(wait=True)


def test_bad_retention_values_and_unknown_tenants_are_refused(database_url: str, tmp_path: Path) -> None:
    assert parse_retention("30d") == 30 and parse_retention("4w") == 28 and parse_retention("7") == 7
    assert parse_retention("forever") is None
    for bad in ("30x", "0d", "-1d", "99999d", ""):
        with pytest.raises(SystemExit):
            parse_retention(bad)
    unknown = cli(database_url, tmp_path, "tenants", "set-retention", "no-such-tenant-here", "30d")
    assert unknown.returncode != 0 and "no tenant named 'no-such-tenant-here'" in unknown.stderr


async def test_tenant_ids_reach_the_ttl_only_quoted(state: AppState, tenant: Tenant) -> None:
    hostile = "x'), 0) DROP TABLE events; --\\"
    expression = retention.ttl_expression("timestamp", {hostile: 5}, 0)
    assert expression is not None and "'x\\'), 0) DROP TABLE events; --\\\\'" in expression
    with pytest.raises(ValueError, match="non-negative integer"):
        retention.ttl_expression("timestamp", {"t": True}, 0)  # type: ignore[dict-item]
    await retention.apply_retention(state.ch, {hostile: 5}, 0, wait=True)  # a valid statement, nothing dropped
    await tenant.gql_data('mutation { ingestEvents(events: [{name: "still.here"}]) { count } }')
    assert (await tenant.gql_data("{ events { totalCount } }"))["events"]["totalCount"] == 1
    assert state.retention is not None
    await state.retention.check(wait=True)  # back to the settings Postgres holds


def test_the_ttl_maps_tenants_to_their_days_and_the_rest_to_the_default() -> None:
    assert retention.ttl_expression("ts", {}, 0) is None  # nobody has a limit: no TTL at all
    assert retention.ttl_expression("ts", {"a": 30}, 0) == (
        "toDateTime(ts) + toIntervalDay(transform(tenant_id, ['a'], [30], 0)) "
        "WHERE transform(tenant_id, ['a'], [30], 0) > 0"
    )
    assert retention.ttl_expression("timestamp", {}, 7) == "toDateTime(timestamp) + toIntervalDay(7) WHERE 7 > 0"
    both = retention.ttl_expression("ts", {"b": 5, "a": 30}, 90)
    assert both is not None and "transform(tenant_id, ['a', 'b'], [30, 5], 90)" in both


async def test_the_configured_default_applies_at_start_to_data_already_stored(
    tmp_path: Path, database_url: str
) -> None:
    """A real server restarted with TRACEHOUSE_RETENTION_DAYS: its start rewrites the TTL and materializes it
    in the background; the rows older than the default go, the others stay."""
    key = "th_retention_default_key"
    env = {"TRACEHOUSE_DATABASE_URL": database_url}
    server = ServerProcess(tmp_path / "data", key, env)
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}, timeout=60) as client:
            tenant = Tenant("default", key, client)
            events = [{"name": f"default.{age}d", "timestamp": _at(age)} for age in (400, 1)]
            await tenant.gql_data("mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }", {"e": events})
        server.stop()
        server.env["TRACEHOUSE_RETENTION_DAYS"] = "365"
        server.start()
        async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}, timeout=60) as client:
            tenant = Tenant("default", key, client)
            query = '{ events(filter: {names: ["default.400d", "default.1d"]}) { edges { node { name } } } }'
            deadline = time.monotonic() + 60
            while True:
                names = [e["node"]["name"] for e in (await tenant.gql_data(query))["events"]["edges"]]
                if names == ["default.1d"] or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            assert names == ["default.1d"]
    finally:
        server.stop()
