"""The record of deletions: who, when, what filter, how many rows; read by `deletions` (in queries that do
not grow with the record) and by `tracehouse deletions list`. And what deleting events does to spans."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from server.state import AppState
from storage.postgres import keys
from tests.conftest import Tenant, make_tenant
from tests.test_query_counts import _count

RECORD = "{ deletions { id target filter state keyId requestedAt finishedAt events executions } }"


async def _delete_names(tenant: Tenant, n: int) -> None:
    for i in range(n):
        await tenant.gql_data(f'mutation {{ deleteEvents(filter: {{names: ["never-{i}"]}}) {{ id }} }}')


async def test_listing_deletions_costs_the_same_queries_for_one_or_many(app: Any, state: AppState) -> None:
    counts = []
    for n in (1, 6):
        async for tenant in make_tenant(app, state):
            await _delete_names(tenant, n)
            assert len((await tenant.gql_data(RECORD))["deletions"]) == n
            counts.append(await _count(state, tenant, RECORD))
    assert counts[0] == counts[1] and counts[0][0] == 0  # Postgres only, one read whatever the length


async def test_the_record_names_the_key_and_the_cli_lists_it(
    tenant: Tenant, state: AppState, database_url: str, tmp_path: Path
) -> None:
    await tenant.gql_data("mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }",
                          {"e": [{"name": "gone"}, {"name": "gone"}, {"name": "stays"}]})  # fmt: skip
    await tenant.gql_data('mutation { deleteEvents(filter: {names: ["gone"]}) { id } }')
    principal = await keys.find_principal(state.pg, tenant.key)
    assert principal is not None
    [record] = (await tenant.gql_data(RECORD))["deletions"]
    assert record["keyId"] == principal.key_id and record["events"] == 2 and record["filter"] == {"names": ["gone"]}
    assert record["state"] == "DONE" and record["requestedAt"] <= record["finishedAt"]

    env = {**os.environ, "TRACEHOUSE_DATABASE_URL": database_url, "TRACEHOUSE_DATA_DIR": str(tmp_path)}
    exe = Path(sys.executable).parent / "tracehouse"
    command = [str(exe), "deletions", "list", "--tenant", tenant.name]
    done = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    listed = done.stdout.splitlines()
    assert len(listed) == 1 and listed[0].startswith(f"{record['id']}  {tenant.name}  done  events  2 events")
    assert f"key {principal.key_id}" in listed[0] and "{'names': ['gone']}" in listed[0]


async def test_deleting_a_spans_end_event_leaves_it_running(tenant: Tenant, other_tenant: Tenant) -> None:
    """Span pieces go with the events that carried them: the span is the merge of the pieces left."""
    phases = enumerate(("initiated", "fulfilled"))
    events = [{"name": f"node.execution.{phase}", "executionId": "piece-x", "spanId": "n1",
               "timestamp": f"2026-11-01T10:00:0{i}Z"} for i, phase in phases]  # fmt: skip
    query = '{ span(executionId: "piece-x", spanId: "n1") { status endTime } }'
    for t in (tenant, other_tenant):
        await t.gql_data("mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count } }", {"e": events})
        assert (await t.gql_data(query))["span"]["status"] == "SUCCEEDED"
    done = await tenant.gql_data('mutation { deleteEvents(filter: {names: ["node.execution.fulfilled"]}) { events } }')
    assert done["deleteEvents"]["events"] == 1
    assert (await tenant.gql_data(query))["span"] == {"status": "RUNNING", "endTime": None}
    assert (await other_tenant.gql_data(query))["span"]["status"] == "SUCCEEDED"
