"""Reading a JSON body under the configured size and batch limits."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from graph.context import Principal
from ingest.validation import InvalidInput, TooLarge
from server.errors import MalformedJSON, rest_errors
from server.state import AppState


def app_state(request: Request) -> AppState:
    return request.app.state.tracehouse


def principal(request: Request) -> Principal:
    return request.scope["state"]["principal"]


async def raw_body(request: Request) -> bytes:
    """The body, refused with 413 as soon as it passes the configured limit."""
    limit = app_state(request).settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"request body of {declared} bytes exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"request body exceeds the limit of {limit} bytes")
    return b"".join(chunks)


async def json_body(request: Request) -> Any:
    body = await raw_body(request)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedJSON(str(exc)) from None


def as_items(request: Request, body: Any) -> tuple[list[Any], bool]:
    """One object or a list of them; the list must fit the batch limit."""
    single = not isinstance(body, list)
    items = [body] if single else body
    limit = app_state(request).settings.max_batch_items
    if len(items) > limit:
        raise TooLarge(f"batch of {len(items)} items exceeds the limit of {limit} items")
    return items, single


def reraise_for_rest(exc: InvalidInput, single: bool) -> InvalidInput:
    exc.errors = rest_errors(exc.errors, single)
    return exc
