"""The FastAPI application factory and its lifespan (stores up before the first request, down after).

Middleware, outermost first: request id and access log; CORS (answers preflights before anything asks
for a key); response compression (zstd, br or gzip, as the client accepts, for bodies above 1 KiB);
authentication; a byte count that trims malloc's arenas after big responses (server/memory_trim.py); then
the routes.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from server import docs_routes, errors, web_routes
from server.annotation_routes import router as annotation_router
from server.audit_routes import router as audit_router
from server.auth import AuthMiddleware
from server.compression import CompressMiddleware, compression_options
from server.cors import cors_middleware, parse_origins
from server.export_routes import router as export_router
from server.graphql_route import graphql_router
from server.health_routes import router as health_router
from server.honeyhive_export import router as honeyhive_export_router
from server.honeyhive_routes import router as honeyhive_router
from server.ingest_routes import router as ingest_router
from server.memory_trim import TrimAfterBigResponses, Trimmer
from server.observe import ObserveMiddleware
from server.otlp_route import router as otlp_router
from server.settings import Settings
from server.state import close_state, open_state
from server.vellum_detail import router as vellum_detail_router

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await open_state(settings)
        app.state.tracehouse = state
        # Big responses allocate hundreds of thousands of short-lived objects: collect less often, and
        # keep what start-up allocated out of every collection.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        log.info("tracehouse ready (clickhouse %s)", settings.clickhouse_url)
        try:
            yield
        finally:
            await close_state(state)

    cors_origins = parse_origins(settings.cors_origins)
    app = FastAPI(
        title="Tracehouse", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
        openapi_url="/openapi.json" if settings.graphql_dev_tools else None,
    )  # fmt: skip
    app.state.cors_origins = cors_origins

    def trimmer() -> Trimmer | None:
        state = getattr(app.state, "tracehouse", None)
        return state.trimmer if state is not None else None

    # Innermost: counts the bytes a route produced, before compression.
    app.add_middleware(TrimAfterBigResponses, trimmer=trimmer, min_bytes=settings.trim_after_response_bytes)
    app.add_middleware(AuthMiddleware)
    app.add_middleware(CompressMiddleware, **compression_options())
    if cors_origins:
        app.add_middleware(cors_middleware, origins=cors_origins)
    app.add_middleware(ObserveMiddleware)  # added last: outermost, so every response carries a request id
    errors.install(app)
    # First: routes are matched in order, and most requests are GraphQL's (matched behind the nine REST routers,
    # finding its route took ~60 µs a request, first ~6 µs).
    app.include_router(graphql_router(settings, cors_origins), prefix="/graphql")
    app.include_router(health_router)
    app.include_router(ingest_router)
    app.include_router(honeyhive_router)
    app.include_router(honeyhive_export_router)
    app.include_router(otlp_router)
    app.include_router(audit_router)
    app.include_router(annotation_router)
    app.include_router(export_router)
    app.include_router(vellum_detail_router)
    docs_routes.install(app, settings.graphql_dev_tools)
    web_routes.install(app)
    return app
