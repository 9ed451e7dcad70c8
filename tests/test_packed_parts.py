"""An insert writes each table's part as one file (ClickHouse migration 11): under steady ingest every insert
creates a part per table and every merge deletes parts, and on ext4 files created soon after many were deleted
cost several times the CPU. Parts past 10 MiB (merges of many inserts) keep the usual one-file-per-column layout."""

from __future__ import annotations

import uuid
from typing import Any

from server.state import AppState
from storage.clickhouse.client import ClickHouse
from tests.conftest import Tenant

PACKED_TABLES = ("events", "spans", "annotations")


async def _parts(ch: ClickHouse) -> set[tuple[str, str, str]]:
    result = await ch.query(
        "SELECT table, name, part_storage_type FROM system.parts "
        "WHERE database = currentDatabase() AND active AND table IN {tables:Array(String)}",
        {"tables": list(PACKED_TABLES)},
    )
    return {(str(table), str(name), str(kind)) for table, name, kind in result.rows}


def _events(trace: str) -> list[dict[str, Any]]:
    return [
        {"id": str(uuid.uuid4()), "name": f"node.execution.{phase}", "trace_id": trace, "span_id": "s1",
         "timestamp": f"2024-01-01T00:00:0{n}+00:00", "body": {"node_definition": {"name": "Prompt", "id": "d1"}}}
        for n, phase in enumerate(("initiated", "fulfilled"))
    ]  # fmt: skip


async def test_an_insert_writes_one_packed_part_per_table(tenant: Tenant, state: AppState) -> None:
    before = await _parts(state.ch)
    trace = str(uuid.uuid4())
    assert (await tenant.http.post("/monitoring/v1/events", json=_events(trace))).status_code == 200
    new = (await _parts(state.ch)) - before
    assert {"events", "spans"} <= {table for table, _, _ in new}, new
    assert {kind for _, _, kind in new} == {"Packed"}, new
    # and the rows in them read back as any others
    response = await tenant.http.get(f"/v1/workflow-executions/{trace}/detail")
    assert response.status_code == 200, response.text
    assert [span["span_id"] for span in response.json()["spans"]] == ["s1"]


async def test_every_written_table_packs_small_parts(state: AppState) -> None:
    result = await state.ch.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() "
        "AND position(create_table_query, 'min_bytes_for_full_part_storage = 10485760') > 0"
    )
    assert {str(name) for (name,) in result.rows} >= set(PACKED_TABLES)
