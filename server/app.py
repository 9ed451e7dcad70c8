"""The FastAPI application factory and its lifespan (stores up before the first request, down after)."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from server import errors
from server.audit_routes import router as audit_router
from server.auth import AuthMiddleware
from server.graphql_route import graphql_router
from server.health_routes import router as health_router
from server.honeyhive_routes import router as honeyhive_router
from server.ingest_routes import router as ingest_router
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

    app = FastAPI(title="Tracehouse", version="0.1.0", lifespan=lifespan)
    app.add_middleware(AuthMiddleware)
    app.add_middleware(ObserveMiddleware)  # added last: outermost, so every response carries a request id
    errors.install(app)
    app.include_router(health_router)
    app.include_router(ingest_router)
    app.include_router(honeyhive_router)
    app.include_router(otlp_router)
    app.include_router(audit_router)
    app.include_router(vellum_detail_router)
    app.include_router(graphql_router(settings), prefix="/graphql")
    return app
