"""chDB's streaming insert (`Connection.send_insert`, public API), which takes a format's bytes straight from
Python: the group commit hands it an Arrow stream built column-wise by pyarrow, instead of clickhouse-connect's
Native rows serialized in Python (~3-4 µs an event under the GIL) and written to a temporary file for
`INSERT ... FROM INFILE`.

What Tracehouse relies on: chDB's version, and that one process may open several connections on the engine
clickhouse-connect already opened (one per pooled handle, used by one thread at a time, as clickhouse-connect's own
handles are); that an insert's rows, one block under ClickHouse's block limits (a million rows, 256 MiB; beyond
them ClickHouse splits any insert, the file insert before this too), are written at `finish()` and not at all
after `cancel()`; and
clickhouse-connect's chDB client keeping the connection string it opened the engine with
(`_backend.connection_string`, private: checked with its version). The versions are checked here at import, which
the chDB store does when it opens (the server fails at startup otherwise), and so is the connection string: the
store opens its insert connections when it opens.
"""

from __future__ import annotations

from typing import Any

from adapters import require, require_attributes

VERSION = require("chdb", ">=4.4,<4.5")
CLICKHOUSE_CONNECT_VERSION = require("clickhouse-connect", ">=1.12,<1.13")

import chdb  # noqa: E402
from chdb.state.sqlitelike import Connection, StreamingInserter  # noqa: E402

require_attributes(Connection, "send_insert", "close")
require_attributes(StreamingInserter, "append", "finish", "cancel")


def connect(client: Any) -> Connection:
    """A chDB connection on the engine that clickhouse-connect's chDB `client` opened: with the very connection
    string it opened the engine with (the path made real, its options), since chDB compares engine paths
    literally and refuses a second spelling of the same directory (a symlink, a trailing slash)."""
    backend = getattr(client, "_backend", None)
    connection_string = getattr(backend, "connection_string", None)
    if not isinstance(connection_string, str) or not connection_string:
        raise RuntimeError("clickhouse-connect's chDB client names no connection string: cannot open an insert "
                           f"connection (clickhouse-connect {CLICKHOUSE_CONNECT_VERSION})")  # fmt: skip
    return chdb.connect(connection_string)


def insert(conn: Connection, statement: str, fmt: str, body: bytes) -> int:
    """Run `statement` (an INSERT without FORMAT or data) on `body`, bytes of format `fmt`; the rows written.
    An error before or in `finish()` cancels the insert: nothing of it is stored."""
    inserter = conn.send_insert(statement, fmt)
    try:
        inserter.append(body)
        result = inserter.finish()
    except BaseException:
        inserter.cancel()  # a no-op once finish() was called, whatever it raised
        raise
    return int(result.rows_written)
