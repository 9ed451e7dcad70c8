"""How errors reach REST clients: 400 bad JSON, 413 too large, 422 invalid fields, 503 store down, 500 for
rows a store refused that validation let through, and for anything unexpected (with a request id)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request

from graph.context import StoreUnavailable
from graph.request_id import request_id
from ingest.validation import InvalidInput, TooLarge
from ingest.writer import RowsRefused
from server.responses import JSON

RETRY_AFTER_SECONDS = "5"
log = logging.getLogger(__name__)


class MalformedJSON(Exception):
    pass


def rest_errors(errors: list[dict[str, Any]], single: bool) -> list[dict[str, Any]]:
    """Adapter locations are item-relative ((index, field)); REST shows them under "body" like FastAPI."""
    out = []
    for err in errors:
        loc = list(err["loc"])
        if single and loc and loc[0] == 0:
            loc = loc[1:]
        out.append({**err, "loc": ["body", *loc]})
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(MalformedJSON)
    async def _malformed(_: Request, exc: MalformedJSON) -> JSON:
        return JSON({"detail": f"malformed JSON body: {exc}"}, status_code=400)

    @app.exception_handler(TooLarge)
    async def _too_large(_: Request, exc: TooLarge) -> JSON:
        return JSON({"detail": str(exc)}, status_code=413)

    @app.exception_handler(InvalidInput)
    async def _invalid(_: Request, exc: InvalidInput) -> JSON:
        return JSON({"detail": exc.errors}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSON:
        log.error("unexpected error", exc_info=exc)
        # This handler runs outside the other middleware, so it sets the request id header itself.
        rid = request_id.get()
        body = {"detail": f"internal error; quote request id {rid} when reporting it", "requestId": rid}
        return JSON(body, status_code=500, headers={"X-Request-ID": rid})

    @app.exception_handler(RowsRefused)
    async def _refused(_: Request, exc: RowsRefused) -> JSON:
        # its own handler, not the catch-all one: that one re-raises to the server, which drops the connection
        rid = request_id.get()
        body = {"detail": f"the store refused this request's rows; nothing of it was stored; quote request id "
                          f"{rid} when reporting it", "requestId": rid}  # fmt: skip
        return JSON(body, status_code=500)

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(_: Request, exc: StoreUnavailable) -> JSON:
        return JSON(
            {"detail": f"{exc.store} is unavailable; nothing was stored, retry later"},
            status_code=503,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
