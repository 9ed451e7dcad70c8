"""Run by tests/test_exact_analytics.py in a child process (chDB allows one engine path per process): a store
driven through parts, resends, deletes and retention, with `eventAggregates` and `actorStats` compared after
every step with what `events FINAL` holds. Prints one JSON line: the mismatches and which reads were taken.

`python -m tests.analytics_scenario <dir> upgrade|random|fresh <seed>`; `upgrade` writes the first events into a
store at migration 8 (before the key hash) and upgrades it in the middle; `random` starts from one merged part,
`fresh` from five unmerged ones. `python -m tests.analytics_scenario <dir> race` writes a part between a read's
plan and its query.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.clickhouse import aggregates, deduplicated, migrations
from storage.clickhouse.aggregates import actor_stats, event_aggregates
from storage.clickhouse.client import ChdbClickHouse
from storage.clickhouse.deletes import EventSelection, delete_events
from storage.clickhouse.events import VISIBLE, insert_events
from storage.clickhouse.retention import apply_retention

TENANTS = ("t-a", "t-b")
NAMES = ("schedule.fired", "automation_run.completed", "honeyhive.child_link", "artifact.created")
ACTOR_TYPES = ("", "user", "agent", "service")
SOURCES = ("audit", "graphql")
COLUMNS = ["tenant_id", "id", "name", "timestamp", "source", "actor_type", "actor_id", "resource_type",
           "outcome", "is_span", "ingested_at"]  # fmt: skip
NOW = datetime.now(UTC)
T0 = NOW - timedelta(days=30)


class Scenario:
    def __init__(self, ch: ChdbClickHouse, rng: random.Random) -> None:
        self.ch, self.rng = ch, rng
        self.sent: list[tuple[str, str, str]] = []  # (tenant, id, source) written so far
        self.clock = 0
        self.checks = 0
        self.mismatches: list[dict[str, Any]] = []
        self.reads: Counter[str] = Counter()
        self.old_share = 0.05  # events past the retention the scenario applies, until it applies it

    def row(self, tenant: str, event_id: str, source: str) -> list[Any]:
        rng = self.rng
        actor_id = f"actor-{rng.randrange(6)}"
        # an actor id mostly keeps one type, but not always (the grouping by id alone must see that)
        actor_type = ACTOR_TYPES[int(actor_id[-1]) % 4] if rng.random() < 0.9 else rng.choice(ACTOR_TYPES)
        old = rng.random() < self.old_share
        timestamp = (NOW - timedelta(days=400)) if old else T0 + timedelta(minutes=rng.randrange(600))
        self.clock += rng.choice((0, 1, 1, 1))  # equal versions happen: then the last written wins
        return [tenant, event_id, rng.choice(NAMES), timestamp, source, actor_type, actor_id if actor_type else "",
                rng.choice(("", "artifact", "automation")), rng.choice(("", "success", "failure")), 0,
                T0 + timedelta(seconds=self.clock)]  # fmt: skip

    async def insert(self, n: int, resend_share: float) -> None:
        rows = []
        for _ in range(n):
            if self.sent and self.rng.random() < resend_share:
                key = self.rng.choice(self.sent)
            else:
                key = (self.rng.choice(TENANTS), f"e{len(self.sent)}", self.rng.choice(SOURCES))
                self.sent.append(key)
            rows.append(self.row(*key))
        if self.rng.random() < 0.5:  # as the group commit writes: a part of level 0 that may hold a key twice
            await insert_events(self.ch, [list(c) for c in zip(*rows, strict=True)], tuple(COLUMNS))
        else:  # deduplicated on insert: a part of level 1
            await self.ch.insert("events", rows, COLUMNS)

    async def step(self) -> None:
        rng = self.rng
        action = rng.random()
        if action < 0.08:
            await self.ch.command("OPTIMIZE TABLE events FINAL")
        elif action < 0.12:
            tenant = rng.choice(TENANTS)
            await delete_events(self.ch, tenant, EventSelection(names=(rng.choice(NAMES),), actor_id="actor-1"))
        elif action < 0.14 or self.checks == 30:
            # rows past it are gone when this returns; none are written after (a background TTL merge would
            # remove them between the read checked and the read of the truth)
            await apply_retention(self.ch, {}, 365 if self.checks % 2 else 366, wait=True)
            self.old_share = 0.0
        else:
            await self.insert(rng.randrange(1, 12), resend_share=rng.choice((0.0, 0.3, 0.9)))

    async def truth(self, tenant: str) -> list[tuple[Any, ...]]:
        return (await self.ch.query(
            "SELECT name, actor_type, resource_type, actor_id, outcome, timestamp, source FROM events FINAL "
            "WHERE tenant_id = {t:String}", {"t": tenant},
        )).rows  # fmt: skip

    async def check(self) -> None:
        self.checks += 1
        self.reads[f"layout: {(await deduplicated.plan(self.ch)).read}"] += 1
        for tenant in TENANTS:
            rows = await self.truth(tenant)
            since, until = T0 + timedelta(minutes=100), T0 + timedelta(minutes=400)
            for window in ((None, None), (since, until)):
                for audit_view in (False, True):
                    await self.compare_aggregates(tenant, rows, window, audit_view)
                await self.compare_actors(tenant, rows, window, None)
                await self.compare_actors(tenant, rows, window, [("user", "actor-1"), ("agent", "actor-2")])

    @staticmethod
    def matching(rows: list[tuple[Any, ...]], window: tuple[datetime | None, datetime | None]) -> list[Any]:
        since, until = window
        return [r for r in rows if r[0] != "honeyhive.child_link"
                and (since is None or r[5].replace(tzinfo=UTC) >= since)
                and (until is None or r[5].replace(tzinfo=UTC) < until)]  # fmt: skip

    async def compare_aggregates(self, tenant: str, rows: list[Any], window: Any, audit_view: bool) -> None:
        got = await event_aggregates(self.ch, tenant, *window, audit_view=audit_view)
        rows = self.matching(rows, window)
        if audit_view:  # the audit view: the audit format's events, and others' that name an actor
            rows = [r for r in rows if r[6] == "audit" or r[1] != ""]
        want = {
            "total": len(rows),
            "names": Counter(r[0] for r in rows),
            "actor_types": Counter(r[1] for r in rows if r[1]),
            "resource_types": Counter(r[2] for r in rows if r[2]),
        }
        have = {
            "total": got.total,
            "names": Counter(dict(got.by_event_type)),
            "actor_types": Counter(dict(got.by_actor_type)),
            "resource_types": Counter(dict(got.by_resource_type)),
        }
        if want != have:
            self.mismatches.append({"what": "eventAggregates", "tenant": tenant, "want": str(want), "have": str(have)})

    async def compare_actors(self, tenant: str, rows: list[Any], window: Any, actors: Any) -> None:
        got = await actor_stats(self.ch, tenant, *window, actors)
        want: dict[tuple[str, str], list[int]] = {}
        for r in self.matching(rows, window):
            if not r[3] or (actors is not None and (r[1], r[3]) not in actors):
                continue
            counts = want.setdefault((r[1], r[3]), [0, 0, 0])
            counts[0] += r[4] == "success"
            counts[1] += r[4] == "failure"
            counts[2] += 1
        have = {(s.actor_type, s.actor_id): [s.successes, s.failures, s.total] for s in got}
        ordered = [s.total for s in got] == sorted((s.total for s in got), reverse=True)
        if want != have or not ordered:
            self.mismatches.append({"what": "actorStats", "tenant": tenant, "want": str(want), "have": str(have)})


async def main(path: str, mode: str, seed: int) -> None:
    ch = ChdbClickHouse(f"chdb://{path}", pool_size=1)
    every = migrations.MIGRATIONS
    scenario = Scenario(ch, random.Random(seed))
    split_read = aggregates.events_once
    first = [""]  # the read before a read again

    async def counted(ch: Any, columns: str, where: str, params: dict[str, Any], after_shadowed: bool = False) -> Any:
        source = await split_read(ch, columns, where, params, after_shadowed)
        if after_shadowed:
            scenario.reads[f"again after a shadowed row of a {first[0]} read, as {source.read}"] += 1
        else:
            first[:] = [source.read]
            scenario.reads[source.read] += 1
        return source

    aggregates.events_once = counted  # type: ignore[assignment]
    if mode == "upgrade":
        migrations.MIGRATIONS = [m for m in every if m[0] <= 8]  # the release before the key hash
        await migrations.migrate(ch)
        for _ in range(6):  # parts of the old schema, with resends across them
            await scenario.insert(40, resend_share=0.3)
        await ch.command("OPTIMIZE TABLE events FINAL")
        await scenario.insert(10, resend_share=0.5)
        migrations.MIGRATIONS = every
    upgraded = await migrations.migrate(ch)
    again = await migrations.migrate(ch)
    if mode == "random":
        await scenario.insert(300, resend_share=0.0)
        await ch.command("OPTIMIZE TABLE events FINAL")
    elif mode == "fresh":  # as inserted: parts of equal size and no merge yet (the steps resend keys across them)
        deduplicated.SORTED_AT_ONCE = 50  # the key hashes sorted in several buckets, as for a big store
        for _ in range(5):
            await scenario.insert(60, resend_share=0.0)
    await scenario.check()
    for _ in range(40):
        await scenario.step()
        await scenario.check()
    described = (await ch.query(
        "SELECT name, type, default_kind FROM system.columns WHERE table = 'events' "
        "AND name IN ('key_hash', 'actor_id') ORDER BY name"
    )).rows  # fmt: skip
    wrong_hashes = (await ch.query("SELECT count() FROM events WHERE key_hash != cityHash64(id, source)")).rows[0][0]
    print(json.dumps({
        "upgraded": upgraded, "again": again, "mismatches": scenario.mismatches[:5], "reads": scenario.reads,
        "columns": [list(c) for c in described], "wrong_hashes": wrong_hashes, "checks": scenario.checks,
    }))  # fmt: skip
    await ch.close()


async def race(path: str) -> None:
    """A part written between the read's plan and its query: the set of key hashes seen twice, kept for the
    parts planned, does not cover it, so its rows are shadowed (and the reader reads again with FINAL), even
    those the read's `where` leaves out."""
    ch = ChdbClickHouse(f"chdb://{path}", pool_size=1)
    await migrations.migrate(ch)
    scenario = Scenario(ch, random.Random(1))
    for _ in range(5):
        await ch.insert("events", [scenario.row("t-a", f"e{len(scenario.sent) + i}", "audit") for i in range(20)],
                        COLUMNS)  # fmt: skip
        scenario.sent.extend(("t-a", f"e{len(scenario.sent) + i}", "audit") for i in range(20))
    where, params = f"tenant_id = {{tenant:String}} AND {VISIBLE}", {"tenant": "t-a"}
    reads = [(await deduplicated.events_once(ch, "name", where, params)).read for _ in range(2)]
    source = await deduplicated.events_once(ch, "name", where, params)
    before = (await ch.query(f"SELECT count() FROM events FINAL WHERE tenant_id = 't-a' AND {VISIBLE}")).rows[0][0]
    # a resend, in a part of its own, renamed to what the read's `where` leaves out: FINAL keeps only it
    resent = scenario.row("t-a", "e3", "audit")
    resent[COLUMNS.index("name")] = "honeyhive.child_link"
    await ch.insert("events", [resent], COLUMNS)
    counted, shadowed = (await ch.query(
        f"SELECT countIf(counted), countIf(shadowed) FROM {source.sql}{source.settings}", source.params
    )).rows[0]  # fmt: skip
    total = (await event_aggregates(ch, "t-a", None, None)).total
    truth = (await ch.query(f"SELECT count() FROM events FINAL WHERE tenant_id = 't-a' AND {VISIBLE}")).rows[0][0]
    print(json.dumps({"reads": reads, "counted": counted, "shadowed": shadowed, "before": before, "total": total,
                      "truth": truth}))  # fmt: skip
    await ch.close()


if __name__ == "__main__":
    if sys.argv[2] == "race":
        asyncio.run(race(sys.argv[1]))
    else:
        asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
