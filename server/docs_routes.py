"""The browser pages' own files: `/docs` (Swagger UI over `/openapi.json`) and the static assets it and
GraphiQL load, all shipped in the package under server/static/ (server/static/fetch-assets.sh fetches
them from npm), so the pages work on a machine without internet and load nothing from another host.

The pages open without a key (they carry no data); the OpenAPI document declares the key schemes, so
Swagger UI's "Authorize" sends `X-API-Key` (or a bearer token) with "Try it out". Production mode turns
these pages off, like GraphiQL and introspection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
SECURITY_SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "Bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer KEY"},
}
UNAUTHENTICATED_PATHS = ("/healthz",)


def install(app: FastAPI, enabled: bool) -> None:
    if not enabled:
        return
    app.mount("/static/graphiql", StaticFiles(directory=STATIC / "graphiql"), name="static-graphiql")
    app.mount("/static/swagger", StaticFiles(directory=STATIC / "swagger"), name="static-swagger")
    _declare_key_schemes(app)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        # Relative URLs: the page is /docs, so they resolve to this server (also behind a path prefix).
        return get_swagger_ui_html(
            openapi_url="openapi.json",
            title=f"{app.title} API",
            swagger_js_url="static/swagger/swagger-ui-bundle.js",
            swagger_css_url="static/swagger/swagger-ui.css",
            swagger_favicon_url="static/swagger/favicon-32x32.png",
            # validatorUrl: None keeps Swagger UI from sending the document to a public validator.
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True, "tryItOutEnabled": True},
        )


def _declare_key_schemes(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            schema["security"] = [{name: []} for name in SECURITY_SCHEMES]
            for path in UNAUTHENTICATED_PATHS:
                for operation in schema.get("paths", {}).get(path, {}).values():
                    operation["security"] = []
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
