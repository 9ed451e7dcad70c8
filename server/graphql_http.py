"""The GraphQL-over-HTTP media types: `application/graphql-response+json` for clients that ask for it.

With that media type a request error (the document does not parse or validate, or the variables do not
coerce: nothing was executed) is a 4xx and the body has no `data` entry, so a client can tell it from a
field error by the status alone. `application/json` (and `*/*`, or no Accept) keeps the legacy answer
existing clients rely on: 200 with `"data": null`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
_JSON_RANGES = ("application/json", "application/*", "*/*")


def _accept_qualities(accept: str) -> dict[str, float]:
    qualities: dict[str, float] = {}
    for part in accept.split(","):
        media_type, *params = (piece.strip() for piece in part.split(";"))
        if not media_type:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[media_type.lower()] = max(quality, qualities.get(media_type.lower(), 0.0))
    return qualities


def wants_graphql_response_json(request: Request) -> bool:
    """True when the Accept header lists application/graphql-response+json at least as high as JSON."""
    qualities = _accept_qualities(request.headers.get("accept", ""))
    preferred = qualities.get(GRAPHQL_RESPONSE_JSON, 0.0)
    return preferred > 0 and preferred >= max((qualities.get(m, 0.0) for m in _JSON_RANGES), default=0.0)


def is_request_error(body: dict[str, Any]) -> bool:
    """Nothing executed: no data, and errors that point at no field (parse, validation, variables)."""
    errors = body.get("errors") or []
    return body.get("data") is None and bool(errors) and all(not e.get("path") for e in errors)


def mark_request_error(request: Request, body: Any) -> Any:
    """Drops `data` from a request error for graphql-response+json clients and notes the 400 to send."""
    if isinstance(body, dict) and wants_graphql_response_json(request) and is_request_error(body):
        body.pop("data", None)
        request.state.graphql_request_error = True
    return body


def negotiate_media_type(request: Request, response: Response) -> None:
    """Relabels a JSON GraphQL response for graphql-response+json clients (400 for a request error)."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return  # the IDE page, plain-text HTTP errors, streams
    if not wants_graphql_response_json(request):
        return
    response.headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
    if getattr(request.state, "graphql_request_error", False):
        response.status_code = 400
