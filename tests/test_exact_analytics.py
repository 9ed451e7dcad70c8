"""`eventAggregates` and `actorStats` read each event once without FINAL over every part
(storage/clickhouse/deduplicated.py): after every step of a store driven through small parts, resends of
events already merged, equal versions, lightweight deletes and retention, they give what `events FINAL`
holds, for tenants, time windows, the audit view and chosen actors, from one merged part and from parts as
inserted. ClickHouse migration 10 upgrades a store written before it (the key hash of every row, actor ids
dictionary-encoded) without changing an answer.

chDB allows one engine path per process, so each store lives in a child process (tests/analytics_scenario.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def _run(path: Path, mode: str, seed: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.analytics_scenario", str(path / "clickhouse"), mode, str(seed)],
        capture_output=True, text=True, timeout=600, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _check(out: dict[str, Any]) -> None:
    assert out["mismatches"] == []
    assert out["again"] == [] and out["wrong_hashes"] == 0
    assert out["columns"] == [["actor_id", "LowCardinality(String)", ""], ["key_hash", "UInt64", "MATERIALIZED"]]
    # every kind of read was taken: split, FINAL for the layout, and again after a shadowed row
    reads = out["reads"]
    assert reads["split"] > 0 and reads["final"] > 0, reads
    assert reads["again after a shadowed row of a split read, as split"] > 0, reads


@pytest.mark.parametrize("seed", [3])
def test_reads_without_final_over_every_part_stay_exact(tmp_path: Path, seed: int) -> None:
    out = _run(tmp_path, "random", seed)
    assert 10 in out["upgraded"]
    _check(out)


def test_unmerged_parts_are_read_once_without_final_and_stay_exact(tmp_path: Path) -> None:
    """Parts as inserted, half written as the group commit writes them (level 0, a key possibly twice inside):
    no part is big enough to split around, so rows are counted when their key hash is seen once in the
    tenant; the answers were compared with `events FINAL` both when that read stood alone and when a resent
    key sent it to FINAL."""
    out = _run(tmp_path, "fresh", 3)
    _check(out)
    reads = out["reads"]
    again = sum(n for read, n in reads.items() if read.startswith("again after a shadowed row of a once"))
    assert reads["layout: once"] > 0 and again > 0, reads
    assert reads["once"] + reads["once, set kept"] > again, reads  # some once reads were the answer, without FINAL
    # reads of a layout already read took the seen-twice set found then, and stayed exact
    assert reads["once, set kept"] > 0 and reads["again after a shadowed row of a once, set kept read, as final"] > 0


def test_a_part_written_after_the_plan_is_read_again_with_final(tmp_path: Path) -> None:
    """The seen-twice set kept for a layout of parts says nothing of a part written after the plan: its rows are
    shadowed, even those the read's `where` leaves out (a resend renamed out of the read), so the reader reads
    again with FINAL rather than count the older version."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.analytics_scenario", str(tmp_path / "clickhouse"), "race"],
        capture_output=True, text=True, timeout=600, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["reads"] == ["once", "once, set kept"]
    # the layout's visible events counted, and the resend shadowed though `where` leaves it out
    assert (out["counted"], out["shadowed"]) == (out["before"], 1)
    assert out["total"] == out["truth"] > 0


def test_a_store_written_before_the_key_hash_upgrades_and_stays_exact(tmp_path: Path) -> None:
    out = _run(tmp_path, "upgrade", 2)
    assert 10 in out["upgraded"]
    _check(out)
