"""Assemble the central FastAPI app from one :class:`Settings`.

``create_app(settings)`` builds the engine, brings the schema to the latest migration, records
the review policy in the audit chain if it changed, and mounts one router per resource.
``build_app_from_env`` is the uvicorn factory (``anshin serve``):

    uvicorn --factory services.central.api.app:build_app_from_env

The interactive API documents (``/docs``, ``/redoc``) and ``/openapi.json`` are not served unless
``ANSHIN_OPENAPI_PUBLIC=1`` (``Settings.openapi_public``): they map every route for a stranger.
``app.openapi()`` still builds the document in-process, for tests and tools.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from services.central.api.deps import single_query_values
from services.central.api.errors import install_error_handlers
from services.central.api.routes import audit, events, health, ops, reviews, webhooks
from services.central.commands import routes as commands
from services.central.dashboard import routes as dashboard
from services.central.db.migrate import upgrade
from services.central.db.session import Database
from services.central.policy import record_review_policy
from services.central.ratelimit import RateLimitMiddleware, VerifiedKeys
from services.central.retention.schedule import scheduled as scheduled_retention
from services.central.settings import Settings
from services.central.snapshots import routes as snapshots
from services.central.usecases import api_routers

API_VERSION = "1.0"


def create_app(settings: Settings) -> FastAPI:
    db = Database.from_settings(settings)
    if settings.migrate_on_start:
        upgrade(db.engine)
    with db.unit_of_work() as session:
        record_review_policy(session, settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with scheduled_retention(db, settings):  # issue 12: purge every retention_interval_s
            yield
        db.dispose()

    app = FastAPI(
        title="Anshin central",
        version=API_VERSION,
        description="Idempotent event ingest, human-in-the-loop review queue, hash-chained audit log.",
        lifespan=lifespan,
        # off by default: without these URLs FastAPI mounts no route (404); app.openapi() still works
        openapi_url="/openapi.json" if settings.openapi_public else None,
        docs_url="/docs" if settings.openapi_public else None,
        redoc_url="/redoc" if settings.openapi_public else None,
    )
    app.state.settings = settings
    app.state.db = db
    install_error_handlers(app)
    # A query parameter given twice is a 422 on every API route (none takes a list).
    one_value = [Depends(single_query_values)]
    # *api_routers(): each use case's API (services/central/usecases/<name>), e.g. F's store occupancy
    for router in (events.router, reviews.router, audit.router, *api_routers()):
        app.include_router(router, dependencies=one_value)
    app.include_router(health.router)
    app.include_router(dashboard.router)
    for router in (ops.router, webhooks.router):  # issue 6: readyz, metrics, edges, dead letters, webhooks
        app.include_router(router, dependencies=one_value)
    app.include_router(snapshots.router, dependencies=one_value)  # issue 3: evidence and live pictures from the edge
    app.include_router(commands.router, dependencies=one_value)  # issue 9: commands to store devices (MQTT _cmd, HTTP long-poll)
    dashboard.install_handlers(app)  # issue 3: sign-in redirects and 403 pages for the dashboard
    app.state.verified_keys = VerifiedKeys()  # filled by api.deps.get_principal; buckets by key id
    app.add_middleware(RateLimitMiddleware, rate_per_s=settings.rate_limit_per_s, burst=settings.rate_limit_burst,
                       verified=app.state.verified_keys)
    return app


def build_app_from_env() -> FastAPI:
    """The app configured from ``ANSHIN_*`` environment variables (uvicorn factory)."""
    return create_app(Settings())
