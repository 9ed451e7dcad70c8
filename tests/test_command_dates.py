"""A command's DateTime64 parameters bind to the instant they name, whatever the year: a mutation (a DELETE
here) stores its parameters as epoch seconds, which ClickHouse misreads before 1973 and past 2286, so the
client binds them as text (storage/clickhouse/client.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from server.state import AppState
from storage.clickhouse.client import bind_dates_as_text

DAYS = {
    "1960": datetime(1960, 5, 1, 12, 0, 0, 123456, tzinfo=UTC),
    "2024": datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    "2300": datetime(2300, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
}


async def test_a_delete_binds_dates_before_1973_and_past_2286(state: AppState) -> None:
    ch = state.ch
    table = f"command_dates_{uuid.uuid4().hex}"
    await ch.command(f"CREATE TABLE {table} (name String, at DateTime64(6, 'UTC')) ENGINE = MergeTree ORDER BY name")
    try:
        await ch.insert(table, list(DAYS.items()), ["name", "at"])

        async def delete(where: str, at: datetime) -> list[str]:
            sql = f"DELETE FROM {table} WHERE {where} SETTINGS lightweight_deletes_sync = 2"
            await ch.command(sql, {"at": at})
            return [r[0] for r in (await ch.query(f"SELECT name FROM {table} ORDER BY name")).rows]

        # the exact instants: a microsecond either side would keep the row
        assert await delete("at = {at:DateTime64(6, 'UTC')}", DAYS["1960"]) == ["2024", "2300"]
        assert await delete("at = {at:DateTime64(6, 'UTC')}", DAYS["2300"]) == ["2024"]
        # an aware datetime in another zone names the same instant
        plus_two = DAYS["2024"].astimezone(timezone(timedelta(hours=2)))
        assert await delete("at >= {at:DateTime64(6, 'UTC')}", plus_two + timedelta(microseconds=1)) == ["2024"]
        assert await delete("at >= {at:DateTime64(6, 'UTC')}", plus_two) == []
    finally:
        await ch.command(f"DROP TABLE IF EXISTS {table}")


async def test_a_delete_binds_nullable_and_array_dates_and_zoned_instants(state: AppState) -> None:
    """`Nullable(DateTime64)` and `Array(DateTime64)` parameters are misread by a mutation as plain ones are (the
    one deletes nothing, the other fails); a zone's ambiguous hour (the autumn clock change) names one instant."""
    ch = state.ch
    table = f"command_dates_{uuid.uuid4().hex}"
    await ch.command(f"CREATE TABLE {table} (name String, at DateTime64(6, 'UTC')) ENGINE = MergeTree ORDER BY name")
    # 00:30 and 01:30 UTC are both 02:30 in Berlin on 2024-10-27
    folds = {"fold-1": datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "fold-2": datetime(2024, 10, 27, 1, 30, tzinfo=UTC)}
    try:
        await ch.insert(table, [*DAYS.items(), *folds.items()], ["name", "at"])

        async def delete(where: str, at: Any) -> list[str]:
            sql = f"DELETE FROM {table} WHERE {where} SETTINGS lightweight_deletes_sync = 2"
            await ch.command(sql, {"at": at})
            return [r[0] for r in (await ch.query(f"SELECT name FROM {table} ORDER BY name")).rows]

        assert await delete("at = {at:Nullable(DateTime64(6, 'UTC'))}", None) == ["1960", "2024", "2300", "fold-1",
                                                                                   "fold-2"]  # fmt: skip
        assert await delete("at = {at:Nullable(DateTime64(6, 'UTC'))}", DAYS["1960"]) == ["2024", "2300", "fold-1",
                                                                                           "fold-2"]  # fmt: skip
        assert await delete("at = {at:DateTime64(6, 'Europe/Berlin')}", folds["fold-2"]) == ["2024", "2300", "fold-1"]
        assert await delete("has({at:Array(DateTime64(6, 'UTC'))}, at)", [DAYS["2300"], folds["fold-1"]]) == ["2024"]
        assert await delete("has({at:Array(DateTime64(6, 'UTC'))}, at)", []) == ["2024"]
    finally:
        await ch.command(f"DROP TABLE IF EXISTS {table}")


def test_only_datetime64_placeholders_holding_datetimes_change() -> None:
    sql = "x = {n:UInt8} AND a < {a:DateTime64(6, 'UTC')} AND b = {b:DateTime64(3)} AND c = {c:DateTime64(6, 'UTC')}"
    at = datetime(1960, 1, 1, tzinfo=UTC)
    bound, params = bind_dates_as_text(sql, {"n": 1, "a": at, "b": at.replace(tzinfo=None), "c": "2024-01-01"})
    assert bound == (
        "x = {n:UInt8} AND a < toDateTime64({a:String}, 6, 'UTC') AND b = toDateTime64({b:String}, 3, 'UTC') "
        "AND c = {c:DateTime64(6, 'UTC')}"
    )
    assert params == {"n": 1, "a": "1960-01-01 00:00:00.000000", "b": "1960-01-01 00:00:00.000000", "c": "2024-01-01"}


def test_nullable_array_and_zoned_placeholders_bind_utc_text() -> None:
    at = datetime(2024, 10, 27, 1, 30, tzinfo=UTC)
    sql = ("a = {a:Nullable(DateTime64(6, 'UTC'))} AND b = {b:DateTime64(3, 'Europe/Berlin')} "
           "AND has({c:Array(DateTime64(6))}, x) AND has({d:Array(Nullable(DateTime64(6)))}, x) "
           "AND e = {e:Nullable(DateTime64(6))}")  # fmt: skip
    params = {"a": at, "b": at.astimezone(timezone(timedelta(hours=2))), "c": [at], "d": [at], "e": None}
    bound, out = bind_dates_as_text(sql, params)
    assert bound == (
        "a = toDateTime64({a:String}, 6, 'UTC') AND b = toTimeZone(toDateTime64({b:String}, 3, 'UTC'), "
        "'Europe/Berlin') AND has(arrayMap(_at -> toDateTime64(_at, 6, 'UTC'), {c:Array(String)}), x) "
        "AND has({d:Array(Nullable(DateTime64(6)))}, x) AND e = {e:Nullable(DateTime64(6))}"
    )
    text = "2024-10-27 01:30:00.000000"
    assert out == {"a": text, "b": text, "c": [text], "d": [at], "e": None}
