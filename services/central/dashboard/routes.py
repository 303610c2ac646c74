"""The staff dashboard (server-rendered pages, htmx, server-sent events), as one router.

Browsers hold no API key: these routes sit outside ``/api/v1`` and need a signed-in user
(``access``); ``install_handlers`` turns access errors into redirects and 403 pages.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.central.dashboard.views import audit, auth, media, queue, review, stream
from services.central.dashboard.web import install_handlers, static_router
from services.central.usecases import dashboard_routers

router = APIRouter(include_in_schema=False)
for _module in (auth, queue, review, audit, media, stream):
    router.include_router(_module.router)
for _use_case_router in dashboard_routers():  # e.g. F's store view (services/central/usecases/occupancy)
    router.include_router(_use_case_router)
router.include_router(static_router)

__all__ = ["install_handlers", "router"]
