"""Errors the storage layer raises for callers that must answer "try again later"."""


class StoreUnavailable(Exception):
    """A store (ClickHouse or Postgres) did not answer; nothing was acknowledged."""

    def __init__(self, store: str, cause: BaseException | None = None) -> None:
        self.store = store
        super().__init__(f"{store} is unavailable" + (f": {cause}" if cause else ""))
