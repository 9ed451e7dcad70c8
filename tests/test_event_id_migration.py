"""ClickHouse migration 4 on a data dir written before it: events keep their rows under the new key
(tenant_id, id, source), the spans view follows the new table, and from then on the same id from two
formats is two events while the same id from one format is still one. A crash between the two renames
is resumed at the next start.

chDB allows one engine path per process, so each old data dir lives in a child process."""

from __future__ import annotations

from pathlib import Path

from tests.old_stores import run_child

SCRIPT = r"""
import asyncio, json, sys
from storage.clickhouse import migrations
from storage.clickhouse.client import ChdbClickHouse

COLUMNS = ["tenant_id", "id", "name", "timestamp", "source", "execution_id", "span_id", "is_span", "span_name",
           "payload"]


def event(source, name, payload):
    return ["t1", "string", name, "2024-01-15 09:30:00", source, "ex-1", "s-1", 1, name, payload]


async def main(path: str, crash: str) -> None:
    ch = ChdbClickHouse(f"chdb://{path}", pool_size=1)
    every = migrations.MIGRATIONS
    migrations.MIGRATIONS = every[:3]  # the release before per-format ids
    before = await migrations.migrate(ch)
    await ch.insert("events", [event("vellum", "node.execution.initiated", "{\"v\": 1}")], COLUMNS)
    if crash:  # the state a crash between the two renames leaves: the copy done, no `events`
        await ch.command(migrations._events_table("events_v4", "tenant_id, id, source"))
        await ch.command(f"INSERT INTO events_v4 SELECT * FROM events")
        await ch.command("RENAME TABLE events TO events_v3")
    migrations.MIGRATIONS = every
    upgraded = await migrations.migrate(ch)
    again = await migrations.migrate(ch)
    await ch.insert("events", [event("audit", "schedule.fired", "{\"a\": 1}")], COLUMNS)  # another format
    await ch.insert("events", [event("vellum", "node.execution.initiated", "{\"v\": 2}")], COLUMNS)  # resent
    events = (await ch.query("SELECT source, payload FROM events FINAL ORDER BY source")).rows
    pieces = (await ch.query("SELECT source, event_name FROM spans FINAL ORDER BY source")).rows
    tables = (await ch.query("SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name")).rows
    key = (await ch.query("SELECT sorting_key FROM system.tables WHERE name = 'events'")).rows[0][0]
    print(json.dumps({"before": before, "upgraded": upgraded, "again": again, "events": events, "pieces": pieces,
                      "tables": [t[0] for t in tables], "key": key}))
    await ch.close()


asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def _upgrade(path: Path, crash: bool) -> dict:
    return dict(run_child(SCRIPT, str(path / "clickhouse"), "crash" if crash else ""))


def _check(out: dict) -> None:
    assert out["before"] == [1, 2, 3]
    assert 4 in out["upgraded"] and out["again"] == []
    assert out["key"] == "tenant_id, id, source"
    # the row written before the upgrade survived it; the same id resent by its format replaced it; the same
    # id from another format is a second event
    assert out["events"] == [["audit", '{"a": 1}'], ["vellum", '{"v": 2}']]
    # the view feeds spans from the new table: the piece written before the upgrade (source '') is kept, and
    # the pieces written after it carry their format
    assert ["audit", "schedule.fired"] in out["pieces"] and ["vellum", "node.execution.initiated"] in out["pieces"]
    assert "events_v3" not in out["tables"] and "events_v4" not in out["tables"]


def test_an_existing_data_dir_gets_per_format_event_ids(tmp_path: Path) -> None:
    _check(_upgrade(tmp_path, crash=False))


def test_a_crash_between_the_renames_is_resumed(tmp_path: Path) -> None:
    _check(_upgrade(tmp_path, crash=True))
