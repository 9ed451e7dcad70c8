"""The group commit's inserts leave skip indexes and replacing by key to merges (storage/clickhouse/events.py):
a fresh part carries no index and search still finds its spans, its first merge builds the indexes, and an
event id sent twice in one insert is still one event to every read.

chDB allows one engine path per process, so the store lives in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import asyncio, json, sys
from datetime import UTC, datetime
from ingest.records import EVENT_COLUMNS, CanonicalEvent, SpanPiece, event_columns
from storage.clickhouse.client import ChdbClickHouse
from storage.clickhouse.events import insert_events
from storage.clickhouse.migrations import migrate
from storage.clickhouse.search import search_spans

T = datetime(2024, 1, 1, tzinfo=UTC)
INDEXED = ("SELECT table, sum(secondary_indices_compressed_bytes) > 0 FROM system.parts WHERE active "
           "AND database = currentDatabase() AND table IN ('events', 'spans') GROUP BY table ORDER BY table")


def event(n, text):
    piece = SpanPiece(name=text, status="SUCCEEDED", start_time=T, end_time=T, inputs='"in"', outputs='"out"')
    return CanonicalEvent(id=f"e{n}", name="span.logged", timestamp=T, source="graphql", execution_id=f"ex-{n}",
                          span_id="s0", span=piece)


def columns(events):
    return event_columns([("t1", events)])


async def main(path):
    ch = ChdbClickHouse(f"chdb://{path}", pool_size=1)
    await migrate(ch)
    await ch.command("SYSTEM STOP MERGES")  # the parts stay as inserted until the test merges them
    # two inserts, two parts a table; the second sends one event id twice
    await insert_events(ch, columns([event(1, "Needle in a haystack")]), EVENT_COLUMNS)
    await insert_events(ch, columns([event(2, "hay only"), event(2, "hay only")]), EVENT_COLUMNS)
    fresh = (await ch.query(INDEXED)).rows
    found_fresh = [s.execution_id for s in await search_spans(ch, "t1", "NEEDLE", 10, None)]
    events = (await ch.query("SELECT count() FROM events FINAL WHERE tenant_id = 't1'")).rows[0][0]
    pieces = (await ch.query("SELECT count() FROM spans FINAL WHERE tenant_id = 't1'")).rows[0][0]
    await ch.command("SYSTEM START MERGES")
    await ch.command("OPTIMIZE TABLE events FINAL")
    await ch.command("OPTIMIZE TABLE spans FINAL")
    merged = (await ch.query(INDEXED)).rows
    found_merged = [s.execution_id for s in await search_spans(ch, "t1", "NEEDLE", 10, None)]
    print(json.dumps({"fresh": fresh, "merged": merged, "found_fresh": found_fresh, "found_merged": found_merged,
                      "events": events, "pieces": pieces}))
    await ch.close()


asyncio.run(main(sys.argv[1]))
"""


def test_merges_build_what_inserts_leave(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "clickhouse")],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["fresh"] == [["events", False], ["spans", False]]  # the inserts built no index
    assert out["found_fresh"] == ["ex-1"]  # a part without its index is read in full
    assert (out["events"], out["pieces"]) == (2, 2)  # the id sent twice in one insert is one event, one piece
    assert out["merged"] == [["events", True], ["spans", True]]  # the merge built them
    assert out["found_merged"] == ["ex-1"]
