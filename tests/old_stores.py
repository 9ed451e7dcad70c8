"""Helpers of the ClickHouse upgrade tests: an old data dir is built and upgraded in a child process (chDB
allows one engine path per process), which prints its findings as JSON on its last line."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from storage.clickhouse.client import ClickHouse

ROOT = Path(__file__).parent.parent


def run_child(script: str, *args: str, timeout: float = 180) -> Any:
    """Runs `script` (Python source) with these arguments; returns what its last line of output says."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


async def mutations_done(ch: ClickHouse, table: str, what: str, seconds: float = 60) -> None:
    """Waits until the table's background mutations (a MATERIALIZE an upgrade started) have ended."""
    deadline = time.monotonic() + seconds
    sql = "SELECT count() FROM system.mutations WHERE table = {t:String} AND NOT is_done"
    while (await ch.query(sql, {"t": table})).rows[0][0]:
        assert time.monotonic() < deadline, f"{what} in time"
        await asyncio.sleep(0.1)
