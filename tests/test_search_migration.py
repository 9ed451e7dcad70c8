"""A data dir written before the search index (ClickHouse migration 3) upgrades at start-up: the index is
added, built for the parts already there, and search finds their spans.

chDB allows one engine path per process, so the old data dir lives in a child process."""

from __future__ import annotations

from pathlib import Path

from tests.old_stores import run_child

SCRIPT = r"""
import asyncio, json, sys
from storage.clickhouse import migrations
from storage.clickhouse.client import ChdbClickHouse
from storage.clickhouse.search import candidate_spans_sql, search_spans
from tests.old_stores import mutations_done

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
    await mutations_done(ch, "spans", "the index was built")
    found = [(s.execution_id, s.name) for s in await search_spans(ch, "t1", "NEEDLE", 10, None)]
    params = {"tenant": "t1"}
    plan = await ch.query(f"EXPLAIN indexes = 1 {candidate_spans_sql('needle', params)}", params)
    print(json.dumps({"before": before, "upgraded": upgraded, "found": found, "plan": [r[0] for r in plan.rows]}))
    await ch.close()


asyncio.run(main(sys.argv[1]))
"""


def test_an_existing_data_dir_gets_the_index(tmp_path: Path) -> None:
    out = run_child(SCRIPT, str(tmp_path / "clickhouse"), timeout=120)
    assert out["before"] == [1, 2]
    assert out["upgraded"][0] == 3  # and every later one
    assert out["found"] == [["ex-1", "Needle in a haystack"]]
    plan = "\n".join(out["plan"])
    # The parts written before the upgrade are skipped by the index they were given: 1 granule of 2 kept.
    after_index = plan[plan.index("idx_search") :]
    assert "Granules: 1/2" in after_index, plan
