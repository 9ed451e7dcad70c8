"""ClickHouse migration 9 on a data dir written before it: span pieces get a `session_id` column, filled for
the pieces already stored, and executions read the same `sessionId` (and the same `sessionId` filter
matches) as before the upgrade, while the filled column is written and after; pieces written later get it on
insert.

chDB allows one engine path per process, so the old data dir lives in a child process."""

from __future__ import annotations

from pathlib import Path

from tests.old_stores import run_child

SCRIPT = r"""
import asyncio, json, sys
from storage.clickhouse import migrations
from storage.clickhouse.client import ChdbClickHouse
from storage.clickhouse.executions import ExecutionQuery, executions_by_ids, list_executions
from tests.old_stores import mutations_done

COLUMNS = ["tenant_id", "id", "name", "timestamp", "source", "execution_id", "span_id", "is_span", "span_name",
           "span_kind", "parent_span_id", "span_status", "attributes"]


def piece(execution, span, parent="", kind="AGENT", attributes=""):
    return ["t1", f"{execution}/{span}", "span.logged", "2024-01-15 09:30:00", "otlp", execution, span, 1, span,
            kind, parent, "SUCCEEDED", attributes]


OLD = [
    piece("ex-root", "r", attributes='{"session.id": "chat-1", "k": 1}'),  # on the root
    piece("ex-child", "r"),
    piece("ex-child", "c", parent="r", attributes='{"a": "x", "session.id": "chat-1"}'),  # on a child
    piece("ex-none", "r", attributes='{"note": "session.id"}'),  # the words, not the key
    piece("hh-1", "hh-1", kind="SESSION"),  # a HoneyHive session is its own
    piece("ex-other", "r", attributes='{"session.id": "chat-2"}'),
]
# The active parts of `spans`, and how many of them have the column written (a part without it computes it on
# read, the same value: only this tells that the upgrade filled it).
PARTS = ("SELECT count(), countIf(name IN (SELECT name FROM system.parts_columns WHERE table = 'spans' AND active "
         "AND column = 'session_id')) FROM system.parts WHERE table = 'spans' AND active")
IDS = ["ex-root", "ex-child", "ex-none", "hh-1", "ex-other", "ex-new"]


async def read(ch):
    found = await executions_by_ids(ch, "t1", IDS)
    sessions = {i: r.session_id for i, r in sorted(found.items())}
    listed = {}
    for s in ("chat-1", "chat-2", "hh-1", "ex-none", "none"):
        rows = await list_executions(ch, "t1", ExecutionQuery(session_id=s), 10, None)
        listed[s] = sorted(r.id for r in rows)
    return {"sessions": sessions, "listed": listed}


async def main(path):
    ch = ChdbClickHouse(f"chdb://{path}", pool_size=1)
    every = migrations.MIGRATIONS
    migrations.MIGRATIONS = [m for m in every if m[0] < 9]  # the release before the column
    before = await migrations.migrate(ch)
    for row in OLD:  # one part each, as separate commits leave them
        await ch.insert("events", [row], COLUMNS)
    migrations.MIGRATIONS = every
    upgraded = await migrations.migrate(ch)
    again = await migrations.migrate(ch)
    read_at_once = await read(ch)  # the fill may still run: parts without it compute the column on read
    await ch.insert("events", [piece("ex-new", "r", attributes='{"session.id": "chat-2"}')], COLUMNS)
    await mutations_done(ch, "spans", "the column was filled")
    stored = (await ch.query("SELECT execution_id, span_id, session_id FROM spans ORDER BY execution_id, span_id")).rows
    parts = (await ch.query(PARTS)).rows[0]
    print(json.dumps({"before": before, "upgraded": upgraded, "again": again, "at_once": read_at_once,
                      "filled": await read(ch), "stored": stored, "parts": parts}))
    await ch.close()


asyncio.run(main(sys.argv[1]))
"""


def test_an_existing_data_dir_reads_the_same_sessions(tmp_path: Path) -> None:
    out = run_child(SCRIPT, str(tmp_path / "clickhouse"))
    assert 9 not in out["before"] and out["upgraded"][0] == 9 and out["again"] == []  # and every later one
    sessions = {"ex-child": "chat-1", "ex-none": None, "ex-other": "chat-2", "ex-root": "chat-1", "hh-1": "hh-1"}
    listed = {"chat-1": ["ex-child", "ex-root"], "chat-2": ["ex-other"], "hh-1": ["hh-1"], "ex-none": ["ex-none"],
              "none": []}  # fmt: skip
    assert out["at_once"] == {"sessions": sessions, "listed": listed}
    # written after the upgrade: filled on insert, found by the filter
    assert out["filled"] == {"sessions": {**sessions, "ex-new": "chat-2"},
                             "listed": {**listed, "chat-2": ["ex-new", "ex-other"]}}  # fmt: skip
    assert out["stored"] == [
        ["ex-child", "c", "chat-1"], ["ex-child", "r", ""], ["ex-new", "r", "chat-2"], ["ex-none", "r", ""],
        ["ex-other", "r", "chat-2"], ["ex-root", "r", "chat-1"], ["hh-1", "hh-1", ""],
    ]  # fmt: skip
    total, written = out["parts"]
    assert total > 0 and written == total, "every part of spans has the column written"
