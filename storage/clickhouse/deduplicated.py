"""A tenant's events each once, as `events FINAL` reads them, without merging every id where that is not needed.

FINAL merges the keys of every part at read time. Event ids are random, so a fresh part of 1,000 events
spans the whole key range of a merged part of millions and FINAL merges them all: ~5x the CPU of the same
read without FINAL (bench/analytics.py). But a part holds each key at most once when ClickHouse gives it a
level above 0 (a merge deduplicates; so does an insert with `optimize_on_insert`, on by default), so when
no key of the other parts is also in the largest such part, the read is exact as two cheap ones: that
part's rows as they are, and the other parts' rows through FINAL (a merge of the small parts only).
Whether a key is in both is checked in the same pass, with a hash of the key (`key_hash`, a column computed
from (id, source)): a row of the largest part whose hash is among the other parts' is `shadowed`. A reader
counts the rows marked `counted`; when a row is `shadowed` (an event resent after its first version was
merged, or two keys sharing a hash) it reads again with `after_shadowed`: the largest part's rows whose hash
is not among the other parts' as they are, and the rows of those hashes, from every part, through FINAL,
chosen by PREWHERE. That runs before FINAL's merge, and is the same as after it because the hash is a
function of the key (every version of a key passes, or none does).
Every read of `events` in a query sees one snapshot of the parts (`enable_shared_storage_snapshot_in_query`),
so no merge or insert lands between its halves.
When the other parts hold much of the table (as inserted, before merges) a split costs more than FINAL
saves, and a ClickHouse without that setting cannot give the one snapshot: both read FINAL.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from storage.clickhouse.client import ClickHouse

# A split pays while the other parts hold at most this share of the rows. CPU of eventAggregates over 5M
# events, split against FINAL (bench/analytics.py layouts, 2026-11-30): a fresh part of 0.02% 169 / 510 ms,
# other parts of 10% 373 / 614, of 20% 425 / 680, of 40% 734 / 800, five equal parts (78%) 1,035 / 716.
OTHER_PARTS_SHARE = 0.4
# One snapshot of the parts for every read of `events` in the query; PREWHERE before FINAL's merge is the
# split's own, so ClickHouse must neither move conditions there nor apply it after the merge.
_SETTINGS = {
    "enable_shared_storage_snapshot_in_query": 1,
    "optimize_move_to_prewhere_if_final": 0,
    "apply_prewhere_after_final": 0,
}
_LAYOUT = (
    "SELECT name, rows, level FROM system.parts WHERE database = currentDatabase() AND table = 'events' AND active"
)
# Whether each store's ClickHouse knows the settings (asked once: a server does not lose settings).
_supported: weakref.WeakKeyDictionary[ClickHouse, bool] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Source:
    """`sql` is a table expression for FROM with the columns asked for plus `counted` (the row is one event
    to count) and `shadowed` (if any row is, read again with `after_shadowed`). `settings` ends the query."""

    sql: str
    params: dict[str, Any]
    settings: str = ""


async def largest_unique_part(ch: ClickHouse) -> str | None:
    """The part a split reads as it is, or None when `events FINAL` is the cheaper read (or the only exact one)."""
    if ch not in _supported:
        known = await ch.query("SELECT count() FROM system.settings WHERE name IN {names:Array(String)}",
                               {"names": list(_SETTINGS)})  # fmt: skip
        _supported[ch] = known.rows[0][0] == len(_SETTINGS)
    rows = (await ch.query(_LAYOUT)).rows
    if len(rows) < 2 or not _supported[ch]:  # one part: FINAL has nothing to merge, and ClickHouse skips it
        return None
    unique = [(int(r[1]), str(r[0])) for r in rows if int(r[2]) > 0]
    if not unique:
        return None
    largest_rows, name = max(unique)
    total = sum(int(r[1]) for r in rows)
    return name if total - largest_rows <= OTHER_PARTS_SHARE * total else None


async def events_once(
    ch: ClickHouse, columns: str, where: str, params: dict[str, Any], after_shadowed: bool = False
) -> Source:
    """`columns` of the events matching `where` (which must hold `tenant_id = {tenant:String}`), each event once
    among the rows `counted`: the rows `SELECT {columns} FROM events FINAL WHERE {where}` gives."""
    part = await largest_unique_part(ch)
    if part is None:
        return Source(f"(SELECT {columns}, 1 AS counted, 0 AS shadowed FROM events FINAL WHERE {where})", params)
    others = "(SELECT key_hash FROM events WHERE tenant_id = {tenant:String} AND _part != {dedup_part:String})"
    largest = "FROM events WHERE tenant_id = {tenant:String} AND _part = {dedup_part:String}"
    if after_shadowed:
        sql = (
            f"(SELECT {columns}, 1 AS counted, 0 AS shadowed {largest} AND key_hash NOT IN {others} AND {where} "
            f"UNION ALL SELECT {columns}, 1, 0 FROM events FINAL PREWHERE tenant_id = {{tenant:String}} "
            f"AND key_hash IN {others} WHERE {where})"
        )
    else:  # a shadowed row is kept whatever `where` says of it: its other version may be the one that matches
        sql = (
            f"(SELECT {columns}, ({where}) AND NOT shadowed AS counted, key_hash IN {others} AS shadowed "
            f"{largest} AND (({where}) OR shadowed) "
            f"UNION ALL SELECT {columns}, 1, 0 FROM events FINAL WHERE _part != {{dedup_part:String}} AND {where})"
        )
    settings = " SETTINGS " + ", ".join(f"{name} = {value}" for name, value in _SETTINGS.items())
    return Source(sql, {**params, "dedup_part": part}, settings)
