"""One async face over clickhouse-connect: the HTTP async client or the in-process chDB backend.

Values reach SQL only as server-side typed parameters (`{name:Type}`), never interpolated.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import clickhouse_connect

from storage.clickhouse.arrow_insert import arrow_stream
from storage.clickhouse.engine_memory import PURGE, MemoryPurge
from storage.errors import StoreUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

# Rows of a block in a converted read (query_converted). ClickHouse hands its result over block by block, and
# each block is made into records and dropped before the next: a 50,000-span read as one result held chDB's
# whole result, its bytes, the driver's columns and its row tuples at once beside the records (a ~270 MiB RSS
# rise for ~80 MiB of records); in blocks of this size ~160 MiB, and faster (no row tuples are made).
BLOCK_ROWS = 2048
# Rows of a converted read from which chDB's freed memory is handed back at once (engine_memory.py): a
# 10,000-span read frees ~20 MiB of it.
PURGE_AFTER_ROWS = 10_000
# ClickHouse's threads for a converted read in chDB, which shares this process's memory and cores with the
# conversion: one reading thread held ~10-16 MiB less for a 50,000-span read, in less CPU and no more time
# (in-process A/B, 16 alternating runs: 307 vs 409 ms wall, 285 vs 311 ms CPU, on a loaded 2-core machine).
# A ClickHouse server (HTTP) keeps its own default: its memory and cores are its own.
_CHDB_READ_THREADS = 1


class EndOfRead(Exception):
    """Raised by a converted read's `convert` to end the read there: the stream is closed (ClickHouse stops
    sending), and the Ts converted before are the read's result. A read whose rows are found useless early
    (a span of several pieces in a page read as pieces) stops paying for the rest of them."""


@dataclass
class Rows:
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        cols = self.columns
        return [dict(zip(cols, row, strict=True)) for row in self.rows]


# A `{name:DateTime64(precision[, 'zone'])}` placeholder, bare or in Nullable(...) or Array(...).
_DATETIME64 = re.compile(
    r"\{(\w+):\s*(?:(Nullable|Array)\(\s*)?DateTime64\(\s*(\d+)\s*(?:,\s*'([^']*)'\s*)?\)\s*(\))?\s*\}"
)


def _utc_text(value: datetime) -> str:
    if value.tzinfo is None:  # naive datetimes are UTC everywhere in this code
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def bind_dates_as_text(sql: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A command's DateTime64 parameters as text that ClickHouse parses back exactly. A mutation (DELETE, ALTER
    ... UPDATE) stores its condition with each DateTime64 parameter turned into epoch seconds, which ClickHouse
    then misreads: a date before 1973 fails to parse, one past 2286 is refused (measured with chDB 4.4); a
    Nullable one matches nothing, an Array one fails. A String parameter is stored as the text it is, so
    `{d:DateTime64(6, 'UTC')}` becomes `toDateTime64({d:String}, 6, 'UTC')`. The text is always UTC (a zone's
    wall time is ambiguous in the hour its clocks go back), turned into the placeholder's zone after parsing."""

    def as_text(match: re.Match[str]) -> str:
        name, wrapper, precision, zone, closed = match.groups()
        if (wrapper is None) != (closed is None):  # e.g. Array(Nullable(DateTime64(...))): left as it is
            return match.group(0)
        value = params.get(name)

        def typed(text: str) -> str:
            parsed = f"toDateTime64({text}, {precision}, 'UTC')"
            return parsed if zone in (None, "UTC") else f"toTimeZone({parsed}, '{zone}')"

        if wrapper == "Array":
            if not isinstance(value, list | tuple) or not all(isinstance(v, datetime) for v in value):
                return match.group(0)
            texts[name] = [_utc_text(v) for v in value]
            return f"arrayMap(_at -> {typed('_at')}, {{{name}:Array(String)}})"
        if not isinstance(value, datetime):  # a Nullable's None binds as NULL, which a mutation keeps as it is
            return match.group(0)
        texts[name] = _utc_text(value)
        return typed(f"{{{name}:String}}")

    texts: dict[str, Any] = {}
    sql = _DATETIME64.sub(as_text, sql)
    return sql, ({**params, **texts} if texts else params)


class ClickHouse(Protocol):
    queries: int

    async def query(self, sql: str, params: dict[str, Any] | None = None) -> Rows: ...
    async def query_converted(
        self, sql: str, params: dict[str, Any] | None, convert: Callable[[Sequence[Sequence[Any]]], Iterable[T]],
        block_rows: int = BLOCK_ROWS, settings: dict[str, Any] | None = None,
    ) -> list[T]: ...  # fmt: skip
    def rows_read(self, rows: int) -> None: ...
    async def command(self, sql: str, params: dict[str, Any] | None = None) -> None: ...
    async def insert(
        self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str],
        settings: dict[str, Any] | None = None,
    ) -> None: ...  # fmt: skip
    async def insert_columns(
        self, table: str, data: Sequence[Sequence[Any]], columns: Sequence[str],
        settings: dict[str, Any] | None = None,
    ) -> None: ...  # fmt: skip
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class ChdbClickHouse:
    """chDB's client is synchronous and serializes calls per handle: keep a few handles, run off the loop."""

    def __init__(self, dsn: str, pool_size: int = 4) -> None:
        from storage.clickhouse import chdb_inserts  # checks the versions it relies on: a mismatch fails the start

        self._chdb_inserts = chdb_inserts
        self.dsn = dsn
        self.queries = 0
        self._handles: list[Any] = []
        self._free: asyncio.Queue[Any] = asyncio.Queue()
        # (table, columns) -> their ClickHouse types: clickhouse-connect otherwise runs a DESCRIBE before every
        # insert (~2 ms of a ~20 ms group commit). Tables only change shape in migrations, before any insert.
        self._column_types: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        # Each handle's own chDB connection for column inserts (chdb_inserts.py), opened with it so that one
        # that cannot open fails the start, not the first insert; a handle is used by one thread at a time, and
        # so is its insert connection.
        self._inserters: dict[int, Any] = {}
        self.memory = MemoryPurge(self._purge_memory)
        for _ in range(max(1, pool_size)):
            handle = clickhouse_connect.get_client(dsn=dsn, tz_mode="aware")
            self._handles.append(handle)
            self._inserters[id(handle)] = chdb_inserts.connect(handle)
            self._free.put_nowait(handle)

    async def _run(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        handle = await self._free.get()
        try:
            return await asyncio.to_thread(getattr(handle, fn), *args, **kwargs)
        except Exception as exc:
            raise _classify(exc) from exc
        finally:
            self._free.put_nowait(handle)

    async def query(self, sql: str, params: dict[str, Any] | None = None) -> Rows:
        self.queries += 1
        result = await self._run("query", sql, parameters=params or {})
        return Rows(list(result.column_names), result.result_rows)

    async def query_converted(
        self, sql: str, params: dict[str, Any] | None, convert: Callable[[Sequence[Sequence[Any]]], Iterable[T]],
        block_rows: int = BLOCK_ROWS, settings: dict[str, Any] | None = None,
    ) -> list[T]:  # fmt: skip
        """The query's rows made into Ts by `convert`, a block at a time as ClickHouse sends them (see BLOCK_ROWS):
        `convert` gets a block's columns, one sequence per column. The stream holds the handle, so the whole read
        runs in its worker thread. `convert` may end the read early (EndOfRead). `settings`: the query's own."""
        self.queries += 1
        query_settings = {"max_block_size": block_rows, "max_threads": _CHDB_READ_THREADS, **(settings or {})}

        def read(handle: Any) -> list[T]:
            out: list[T] = []
            with handle.query_column_block_stream(sql, parameters=params or {}, settings=query_settings) as stream:
                try:
                    for columns in stream:
                        out.extend(convert(columns))
                except EndOfRead:
                    pass  # leaving the block closes the stream, which frees the handle
            return out

        handle = await self._free.get()
        try:
            out = await asyncio.to_thread(read, handle)
        except Exception as exc:
            raise _classify(exc) from exc
        finally:
            self._free.put_nowait(handle)
        self.rows_read(len(out))
        return out

    def rows_read(self, rows: int) -> None:
        """ClickHouse read `rows` rows for a converted read (at least its rows returned, which query_converted
        tells; a caller that knows more, e.g. a page sorted out of a whole trace, tells that): after a big
        read, chDB's freed memory is handed back at once."""
        if rows >= PURGE_AFTER_ROWS:
            self.memory.request()

    async def _purge_memory(self) -> None:
        await self._run("command", PURGE)  # not counted in `queries`: it reads nothing

    async def command(self, sql: str, params: dict[str, Any] | None = None) -> None:
        self.queries += 1
        sql, params = bind_dates_as_text(sql, params or {})
        await self._run("command", sql, parameters=params)

    async def insert(
        self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str],
        settings: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        from clickhouse_connect.datatypes.registry import get_from_name

        types = [get_from_name(t) for t in await self._type_names(table, columns)]
        handle = await self._free.get()
        try:
            context = handle.create_insert_context(
                table, column_names=list(columns), column_types=types, data=rows, settings=settings
            )
            await asyncio.to_thread(handle.insert, context=context)
        except Exception as exc:
            raise _classify(exc) from exc
        finally:
            self._free.put_nowait(handle)

    async def insert_columns(
        self, table: str, data: Sequence[Sequence[Any]], columns: Sequence[str],
        settings: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        """Insert `data`, one sequence of values per column of `columns`, as one Arrow stream (arrow_insert.py): all
        of it is stored or, on any error (a value its column cannot hold among them), none of it."""
        types = await self._type_names(table, columns)
        names = ", ".join(_identifier(name) for name in columns)
        statement = f"INSERT INTO {_identifier(table)} ({names}){_settings_clause(settings)}"

        def run(handle: Any) -> None:
            body = arrow_stream(columns, types, data)  # here, not on the event loop: it holds the GIL
            self._chdb_inserts.insert(self._inserters[id(handle)], statement, "ArrowStream", body)

        handle = await self._free.get()
        try:
            await asyncio.to_thread(run, handle)
        except Exception as exc:
            raise _classify(exc) from exc
        finally:
            self._free.put_nowait(handle)

    async def _type_names(self, table: str, columns: Sequence[str]) -> list[str]:
        key = (table, tuple(columns))
        types = self._column_types.get(key)
        if types is None:
            types = await self._types(table, key[1])
            self._column_types[key] = types
        return types

    async def _types(self, table: str, columns: tuple[str, ...]) -> list[str]:
        # not counted in `queries`: tests count the reads a request makes, and this runs once per table
        result = await self._run(
            "query",
            "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String}",
            parameters={"t": table},
        )
        found = {str(name): str(type_name) for name, type_name in result.result_rows}
        missing = [c for c in columns if c not in found]
        if missing:
            raise ValueError(f"table {table} has no columns {missing}")
        return [found[c] for c in columns]

    async def ping(self) -> bool:
        try:
            await self._run("command", "SELECT 1")
            return True
        except Exception:
            return False

    async def close(self) -> None:
        await self.memory.wait()
        for conn in self._inserters.values():
            conn.close()
        self._inserters.clear()
        for handle in self._handles:
            handle.close()
        self._handles.clear()


class HttpClickHouse:
    """A shared async HTTP client; `autogenerate_session_id=False` lets concurrent queries share it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.queries = 0

    @classmethod
    async def connect(cls, url: str) -> HttpClickHouse:
        client = await clickhouse_connect.get_async_client(dsn=url, autogenerate_session_id=False, tz_mode="aware")
        return cls(client)

    async def query(self, sql: str, params: dict[str, Any] | None = None) -> Rows:
        self.queries += 1
        try:
            result = await self._client.query(sql, parameters=params or {})
        except Exception as exc:
            raise _classify(exc) from exc
        return Rows(list(result.column_names), result.result_rows)

    async def query_converted(
        self, sql: str, params: dict[str, Any] | None, convert: Callable[[Sequence[Sequence[Any]]], Iterable[T]],
        block_rows: int = BLOCK_ROWS, settings: dict[str, Any] | None = None,
    ) -> list[T]:  # fmt: skip
        """The query's rows made into Ts by `convert`, a block at a time as they arrive (see BLOCK_ROWS); `convert`
        may end the read early (EndOfRead). `settings`: the query's own."""
        self.queries += 1
        out: list[T] = []
        query_settings = {"max_block_size": block_rows, **(settings or {})}
        try:
            stream = await self._client.query_column_block_stream(
                sql, parameters=params or {}, settings=query_settings
            )
            async with stream:
                try:
                    async for columns in stream:
                        out.extend(convert(columns))
                except EndOfRead:
                    pass  # leaving the block closes the response
        except Exception as exc:
            raise _classify(exc) from exc
        return out

    def rows_read(self, rows: int) -> None:
        """A ClickHouse server's memory is its own: nothing to hand back here."""

    async def command(self, sql: str, params: dict[str, Any] | None = None) -> None:
        self.queries += 1
        sql, params = bind_dates_as_text(sql, params or {})
        try:
            await self._client.command(sql, parameters=params)
        except Exception as exc:
            raise _classify(exc) from exc

    async def insert(
        self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str],
        settings: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        # a server too old to know a setting inserts without it (they only tune)
        known = {k: v for k, v in (settings or {}).items() if k in self._client.server_settings}
        try:
            await self._client.insert(table, rows, column_names=list(columns), settings=known)
        except Exception as exc:
            raise _classify(exc) from exc

    async def insert_columns(
        self, table: str, data: Sequence[Sequence[Any]], columns: Sequence[str],
        settings: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        # as rows: clickhouse-connect's column-oriented insert measured ~30% slower than its row insert
        await self.insert(table, list(zip(*data, strict=True)), columns, settings)

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._client.close()


_SETTING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _identifier(name: str) -> str:
    """A table or column name of this code's own, as SQL: plain identifiers only."""
    if not _SETTING_NAME.fullmatch(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def _settings_clause(settings: dict[str, Any] | None) -> str:
    """` SETTINGS name = value, ...` of an insert's own settings (this code's constants, never a client's): names
    must be identifiers and values integers."""
    if not settings:
        return ""
    for name, value in settings.items():
        if not _SETTING_NAME.fullmatch(name) or type(value) is not int:
            raise ValueError(f"insert setting {name}={value!r}: a name and an integer value expected")
    return " SETTINGS " + ", ".join(f"{name} = {value}" for name, value in settings.items())


def _classify(exc: Exception) -> Exception:
    """Connection-level failures become StoreUnavailable; SQL errors stay what they are."""
    from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError, StreamFailureError

    # A stream's failure is an OperationalError, but one with ClickHouse's error code is the query's own error
    # reported mid-stream (chDB reports every engine error of a stream so), not a lost connection.
    if isinstance(exc, StreamFailureError) and exc.code is not None:
        return exc
    if isinstance(exc, OperationalError | OSError | asyncio.TimeoutError):
        return StoreUnavailable("clickhouse", exc)
    if isinstance(exc, DatabaseError):
        return exc
    return exc


async def connect_clickhouse(url: str, pool_size: int = 4) -> ClickHouse:
    if url.startswith("chdb:"):
        # chdb:///abs/path or chdb://memory; the directory must exist before the engine opens it.
        return await asyncio.to_thread(ChdbClickHouse, url, pool_size)
    if url.startswith(("http://", "https://")):
        return await HttpClickHouse.connect(url)
    raise ValueError(f"TRACEHOUSE_CLICKHOUSE_URL must start with chdb://, http:// or https://, got {url!r}")
