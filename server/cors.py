"""Browser access from other origins: CORS for the origins in TRACEHOUSE_CORS_ORIGINS, and the origin rule
that keeps cookie authentication (`vai_token`) safe from cross-site requests.

Starlette's CORSMiddleware answers preflights itself, so it sits outside AuthMiddleware: a preflight
carries no credentials and must not need any. With no origins configured it is not installed at all,
and no response carries CORS headers.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Scope
from strawberry.http.websocket_origin import is_same_origin, normalize_allowed_origins, normalize_origin

from server.settings import SettingsError

ALLOW_HEADERS = ("X-API-Key", "Authorization", "Content-Type", "Accept", "X-Request-ID")
EXPOSE_HEADERS = ("X-Request-ID", "Retry-After", "WWW-Authenticate")
PREFLIGHT_MAX_AGE = 600


def parse_origins(value: str) -> frozenset[str]:
    """`https://a.example, http://localhost:5173` → normalized origins; `*` allows any origin, but
    never with cookies. A value that is not an origin stops start-up."""
    origins = [part.strip() for part in value.split(",") if part.strip()]
    try:
        return normalize_allowed_origins(origins)
    except ValueError as exc:
        raise SettingsError(f"invalid configuration:\n  TRACEHOUSE_CORS_ORIGINS: {exc}") from None


class _CORSMiddleware(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        # Starlette lists the allowed methods and headers even to an origin it refuses; say nothing.
        if not self.is_allowed_origin(request_headers["origin"]):
            return PlainTextResponse("Disallowed CORS origin", status_code=400)
        return super().preflight_response(request_headers)


def cors_middleware(app: ASGIApp, origins: frozenset[str]) -> ASGIApp:
    any_origin = "*" in origins
    return _CORSMiddleware(
        app,
        allow_origins=["*"] if any_origin else sorted(origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=list(ALLOW_HEADERS),
        expose_headers=list(EXPOSE_HEADERS),
        # With `*` any page could act with a user's cookie; keys in headers still work from anywhere.
        allow_credentials=not any_origin,
        max_age=PREFLIGHT_MAX_AGE,
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def trusted_origin(scope: Scope, origins: frozenset[str]) -> bool:
    """Whether a request may act with the browser's cookie: no Origin header (not a browser, or a
    same-origin navigation), the server's own origin, or a configured origin (not `*`)."""
    origin = _header(scope, b"origin")
    if origin is None:
        return True
    if _header(scope, b"sec-fetch-site") == "same-origin" or is_same_origin(origin, _header(scope, b"host")):
        return True
    normalized = normalize_origin(origin)
    return normalized is not None and normalized in origins


def simple_content_type(scope: Scope) -> bool:
    """The content types a cross-site HTML form (or a no-preflight fetch) can send."""
    value = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
    return value in ("", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
