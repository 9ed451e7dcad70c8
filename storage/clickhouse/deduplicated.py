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
saves; then the read is `once`: every row as it is, counted when its key hash is in no other row of the
tenant (the 8-byte hashes sorted, equal neighbours kept: a set that is empty or small). Such a row is its key's only
version, which is what FINAL keeps, whatever part it is in and whatever its level; a row whose hash is seen
twice (a resend, a duplicate inside an insert that did not dedupe, two keys sharing a hash) is `shadowed`,
and the read again is FINAL. With five equal parts of 1M events this costs about half of FINAL's CPU: FINAL
merges the 36-byte string ids of every part, the once read sorts 8 bytes a row (bench/analytics.py). The set
is found by a query of its own and kept for the layout of parts it was found in: parts are immutable, so until
one is written, merged or deleted it is the same, and a read again reads only its columns. The read passes
the set and the layout's part names; a row of a part not among them (written or merged between the layout
read and the query) is shadowed. A tenant with more than SEEN_KEPT such hashes reads FINAL. A ClickHouse
without the snapshot setting, or a table of one part (FINAL has nothing to merge), reads FINAL.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
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
# A part's name, rows and time stand for its contents (parts are immutable: a merge, mutation or delete writes a
# new part under a new name); the table's uuid tells a table dropped and made again, whose names start over.
_LAYOUT = (
    "SELECT name, rows, level, modification_time, (SELECT uuid FROM system.tables WHERE database = currentDatabase() "
    "AND name = 'events') FROM system.parts WHERE database = currentDatabase() AND table = 'events' AND active"
)
# Whether each store's ClickHouse knows the settings (asked once: a server does not lose settings).
_supported: weakref.WeakKeyDictionary[ClickHouse, bool] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Source:
    """`sql` is a table expression for FROM with the columns asked for plus `counted` (the row is one event
    to count) and `shadowed` (if any row is, read again with `after_shadowed`). `settings` ends the query;
    `read` says which read it is ("split", "once", "once, set kept" or "final"), for tests and benches."""

    sql: str
    params: dict[str, Any]
    settings: str = ""
    read: str = "final"


@dataclass(frozen=True)
class Plan:
    """How to read the events once: "split" around `part`, "once" (every row, keys seen twice left out), or
    "final"."""

    read: str
    part: str | None = None
    rows: int = 0  # the table's rows (all tenants): a bound on the tenant's
    layout: tuple[tuple[Any, ...], ...] = ()  # the active parts as _LAYOUT read them


async def plan(ch: ClickHouse) -> Plan:
    """The cheapest exact read for the parts the table has now."""
    if ch not in _supported:
        known = await ch.query("SELECT count() FROM system.settings WHERE name IN {names:Array(String)}",
                               {"names": list(_SETTINGS)})  # fmt: skip
        _supported[ch] = known.rows[0][0] == len(_SETTINGS)
    rows = (await ch.query(_LAYOUT)).rows
    if len(rows) < 2 or not _supported[ch]:  # one part: FINAL has nothing to merge, and ClickHouse skips it
        return Plan("final")
    unique = [(int(r[1]), str(r[0])) for r in rows if int(r[2]) > 0]
    total = sum(int(r[1]) for r in rows)
    if unique:
        largest_rows, name = max(unique)
        if total - largest_rows <= OTHER_PARTS_SHARE * total:
            return Plan("split", name, total)
    return Plan("once", None, total, tuple(sorted(tuple(r) for r in rows)))


# The key hashes of the tenant's rows that are seen more than once (in one part or in several): sorted, a hash
# equal to the one before it. Over 5M hashes that took 2/3 of the CPU of GROUP BY key_hash HAVING count() > 1
# (214 / 309 ms). The hashes are sorted in buckets of about SORTED_AT_ONCE at most (by default ClickHouse refuses
# a groupArray past 16,777,215 elements). At most SEEN_KEPT + 1 come back.
_SEEN_TWICE = (
    "SELECT groupArray({seen_kept:UInt64})(h) FROM "
    "(SELECT arrayJoin(arrayFilter((h, d) -> d = 0, arrayPopFront(s), arrayPopFront(arrayDifference(s)))) AS h "
    "FROM (SELECT arraySort(groupArray(key_hash)) AS s FROM events WHERE tenant_id = {tenant:String} "
    "GROUP BY key_hash % {dedup_buckets:UInt64}))"
)
SORTED_AT_ONCE = 8_000_000
# The seen-twice set of a tenant is found once per layout of parts and kept (rows of parts unchanged cannot
# change it), for at most KEPT_TENANTS tenants a store and sets of at most SEEN_KEPT hashes. Sorting the hashes
# is most of the once read (5M events: ~170 of ~290 ms CPU, bench/analytics.py); a dashboard asking again
# while nothing was written reads only its columns.
SEEN_KEPT = 1_000
KEPT_TENANTS = 256
_seen: weakref.WeakKeyDictionary[ClickHouse, OrderedDict[str, tuple[tuple[Any, ...], list[int]]]] = (
    weakref.WeakKeyDictionary()
)


def forget(ch: ClickHouse) -> None:
    """Drops the seen-twice sets kept for `ch` (benches time the first read after the parts changed)."""
    _seen.pop(ch, None)


async def _seen_twice(ch: ClickHouse, tenant: str, chosen: Plan) -> tuple[list[int] | None, bool]:
    """The key hashes of the tenant seen twice in the parts of `chosen.layout` (with, maybe, those of parts
    written since), or None past SEEN_KEPT; and whether they were kept from an earlier read."""
    kept = _seen.setdefault(ch, OrderedDict())
    found = kept.get(tenant)
    if found is not None and found[0] == chosen.layout:
        kept.move_to_end(tenant)
        return found[1], True
    params = {"tenant": tenant, "seen_kept": SEEN_KEPT + 1, "dedup_buckets": 1 + chosen.rows // SORTED_AT_ONCE}
    seen = [int(h) for h in (await ch.query(_SEEN_TWICE, params)).rows[0][0]]
    if len(seen) > SEEN_KEPT:
        return None, False
    kept[tenant] = (chosen.layout, seen)
    kept.move_to_end(tenant)
    while len(kept) > KEPT_TENANTS:
        kept.popitem(last=False)
    return seen, False


async def events_once(
    ch: ClickHouse, columns: str, where: str, params: dict[str, Any], after_shadowed: bool = False
) -> Source:
    """`columns` of the events matching `where` (which must hold `tenant_id = {tenant:String}`), each event once
    among the rows `counted`: the rows `SELECT {columns} FROM events FINAL WHERE {where}` gives."""
    chosen = await plan(ch)
    settings = " SETTINGS " + ", ".join(f"{name} = {value}" for name, value in _SETTINGS.items())
    seen, again = (None, False)
    if chosen.read == "once" and not after_shadowed:
        seen, again = await _seen_twice(ch, params["tenant"], chosen)
    if seen is not None:
        # A row whose key has no other version counts as it is; one that may (shadowed) sends the reader
        # to FINAL. A version that does not match `where` need not be seen: if the key's only version, FINAL
        # drops it too; if not, the key's hash is among those seen twice. The set holds for the parts it was
        # found in: a row of a part written or merged since is shadowed, and read whatever `where` says of it
        # (it may be the newer version of a key counted in the layout's parts).
        sql = (
            f"(SELECT {columns}, ({where}) AND NOT shadowed AS counted, (key_hash IN {{dedup_seen:Array(UInt64)}} "
            "OR _part NOT IN {dedup_parts:Array(String)}) AS shadowed FROM events WHERE tenant_id = {tenant:String} "
            f"AND (({where}) OR _part NOT IN {{dedup_parts:Array(String)}}))"
        )
        parts = [str(part[0]) for part in chosen.layout]
        read = "once, set kept" if again else "once"
        return Source(sql, {**params, "dedup_seen": seen, "dedup_parts": parts}, settings, read)
    if chosen.part is None:  # FINAL, or the once read again after a shadowed row (as costly as FINAL itself)
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
    return Source(sql, {**params, "dedup_part": chosen.part}, settings, "split")
