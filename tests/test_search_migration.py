"""A data dir written before the search index (ClickHouse migration 3) upgrades at start-up: the index is
added, built for the parts already there, and search finds their spans.

chDB allows one engine path per process, so the old data dir lives in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import asyncio, json, sys, time
from storage.clickhouse import migrations
from storage.clickhouse.client import ChdbClickHouse
from storage.clickhouse.search import candidate_spans_sql, search_spans

ROW = ("t1", "ex-{n}", "s0", "e{n}", "span.logged", "2024-01-01 00:00:00", "{name}", "SUCCEEDED")
COLUMNS = "tenant_id, execution_id, span_id, event_id, event_name, ts, span_name, span_status"


async def main(path: str) -> None:
    ch = ChdbClickHouse(f"chdb://{path}", pool_size=1)
    every = migrations.MIGRATIONS
    migrations.MIGRATIONS = every[:2]  # the release before the index
    before = await migrations.migrate(ch)
    # Two parts written before the upgrade: one holds the text, the other does not.
    for n, name in ((1, "Needle in a haystack"), (2, "hay only")):
        await ch.insert("spans", [[v.format(n=n, name=name) for v in ROW]], COLUMNS.split(", "))
    migrations.MIGRATIONS = every
    upgraded = await migrations.migrate(ch)
    deadline = time.monotonic() + 60
    while (await ch.query("SELECT count() FROM system.mutations WHERE table = 'spans' AND NOT is_done")).rows[0][0]:
        assert time.monotonic() < deadline, "the index was not built in time"
        await asyncio.sleep(0.1)
    found = [(s.execution_id, s.name) for s in await search_spans(ch, "t1", "NEEDLE", 10, None)]
    params = {"tenant": "t1"}
    plan = await ch.query(f"EXPLAIN indexes = 1 {candidate_spans_sql('needle', params)}", params)
    print(json.dumps({"before": before, "upgraded": upgraded, "found": found, "plan": [r[0] for r in plan.rows]}))
    await ch.close()


asyncio.run(main(sys.argv[1]))
"""


def test_an_existing_data_dir_gets_the_index(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "clickhouse")],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["before"] == [1, 2]
    assert out["upgraded"][0] == 3  # and every later one
    assert out["found"] == [["ex-1", "Needle in a haystack"]]
    plan = "\n".join(out["plan"])
    # The parts written before the upgrade are skipped by the index they were given: 1 granule of 2 kept.
    after_index = plan[plan.index("idx_search") :]
    assert "Granules: 1/2" in after_index, plan
