"""Telling a Postgres outage (down, restarting, a connection torn down mid-operation) from a statement
Postgres refused: callers answer the first with "try again later" and the second as bad rows."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import asyncpg

from storage.errors import StoreUnavailable

# asyncpg's InternalClientError ("cannot switch to state …") comes from a connection that died under an
# operation, so it is an outage like the socket errors (TimeoutError is an OSError).
CONNECTION_ERRORS: tuple[type[Exception], ...] = (OSError, asyncpg.InterfaceError, asyncpg.InternalClientError)

# SQLSTATE classes that say the rows are wrong, not that Postgres is unwell: data exception, integrity
# constraint violation, program limit exceeded (an index entry too big), syntax or access rule.
_REFUSALS = ("22", "23", "54", "42")


def outage(exc: BaseException) -> StoreUnavailable | None:
    """StoreUnavailable when `exc` says a store is down or unwell (retry later), None when it refused rows."""
    if isinstance(exc, StoreUnavailable):
        return exc
    if isinstance(exc, asyncpg.PostgresError):
        return None if (exc.sqlstate or "")[:2] in _REFUSALS else StoreUnavailable("postgres", exc)
    if isinstance(exc, CONNECTION_ERRORS):
        return StoreUnavailable("postgres", exc)
    return None


@contextlib.contextmanager
def unavailable_when_down() -> Iterator[None]:
    """Re-raise an outage inside the block as StoreUnavailable; anything else as it is."""
    try:
        yield
    except Exception as exc:
        error = outage(exc)
        if error is None or error is exc:
            raise
        raise error from exc
