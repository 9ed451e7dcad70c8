"""What /readyz asks ClickHouse besides "do you answer": how much room its disks have left and whether
this user may write at all. Works the same on a ClickHouse server and on embedded chDB."""

from __future__ import annotations

from dataclasses import dataclass

from storage.clickhouse.client import ClickHouse


@dataclass(frozen=True)
class DiskState:
    free_bytes: int  # on the fullest of its disks
    writable: bool  # false for a `readonly` user or profile


async def disk_state(ch: ClickHouse) -> DiskState:
    rows = await ch.query("SELECT min(free_space) AS free, getSetting('readonly') AS readonly FROM system.disks")
    free, readonly = rows.rows[0]
    return DiskState(free_bytes=int(free), writable=int(readonly) == 0)
