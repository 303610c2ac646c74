"""``/`` (the page) and its JSON feeds under ``/ui``.

Browsers hold no API key, so these routes sit outside ``/api/v1``. They expose occupancy and
the latest event headers only (no evidence). If ``settings.ui_token`` is set, each request
needs it as ``?token=`` (the page) or ``X-UI-Token`` (the feeds); sign-in comes later.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.central.api.deps import ReadSession, SettingsDep
from services.central.reads.events import latest_received
from services.central.reads.occupancy import latest_occupancy

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
#: How many events the live list shows.
LATEST_EVENTS = 20

router = APIRouter(tags=["dashboard"], include_in_schema=False)


def check_ui_token(
    settings: SettingsDep,
    token: Annotated[str | None, Query()] = None,
    x_ui_token: Annotated[str | None, Header()] = None,
) -> None:
    if settings.ui_token is None:
        return
    given = token or x_ui_token or ""
    if not secrets.compare_digest(given.encode(), settings.ui_token.get_secret_value().encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "dashboard token missing or wrong: open /?token=...")


UiAccess = Annotated[None, Depends(check_ui_token)]


@router.get("/", response_class=HTMLResponse)
def index(request: Request, _: UiAccess) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "index.html", {"refresh_ms": 2000, "latest": LATEST_EVENTS})


@router.get("/ui/occupancy")
def occupancy_feed(session: ReadSession, _: UiAccess) -> dict[str, Any]:
    zones = latest_occupancy(session)
    return {
        "zones": [
            {
                "store_id": z.store_id, "camera_id": z.camera_id, "zone": z.zone, "count": z.count,
                "capacity": z.capacity, "over_capacity": z.over_capacity, "occurred_at": z.occurred_at.isoformat(),
            }
            for z in zones
        ]
    }


@router.get("/ui/events")
def events_feed(session: ReadSession, _: UiAccess) -> dict[str, Any]:
    rows = latest_received(session, LATEST_EVENTS)
    return {
        "data": [
            {
                "event_id": str(r.event_id), "type": r.type, "use_case": r.use_case, "store_id": r.store_id,
                "camera_id": r.camera_id, "occurred_at": r.occurred_at.isoformat(), "severity": r.severity,
                "review_required": r.review_required,
                "summary": (r.explanation or {}).get("summary", ""),
            }
            for r in rows
        ]
    }
