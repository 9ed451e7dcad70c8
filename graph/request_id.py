"""The id of the request being served: set by the server for every request, shown in errors and logs."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="-")
# Filled in while a request runs (e.g. the GraphQL operation's type and name) and read by the server's
# metrics when it ends; a dict so writes from nested contexts reach the request's own copy.
request_info: ContextVar[dict[str, str] | None] = ContextVar("request_info", default=None)
