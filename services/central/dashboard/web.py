"""Page rendering for the dashboard: templates, the per-request :class:`Ui`, static files,
security headers and the handlers that turn access errors into redirects or 403 pages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader

from services.central.api.deps import DatabaseDep, SettingsDep
from services.central.dashboard.access import (
    CsrfRejected,
    NotAllowed,
    OptionalViewer,
    SignInRequired,
    ViewerDep,
    locale_of,
    login_url,
)
from services.central.dashboard.i18n import Translator
from services.central.db.session import Database
from services.central.settings import Settings
from services.central.usecases import template_dirs
from services.central.users.roles import Permission
from services.central.users.sessions import Viewer

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
# The dashboard's own templates first, then each use case's (services/central/usecases/<name>/templates).
TEMPLATES.env.loader = ChoiceLoader([FileSystemLoader(HERE / "templates"), *map(FileSystemLoader, template_dirs())])

#: No inline scripts or styles anywhere, so the policy can forbid them (event text comes from devices).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def _static_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.glob("*")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


STATIC_VERSION = _static_version()


def iso(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).isoformat() if value else ""


def clock(value: datetime | None) -> str:
    """UTC wall time; the page's script shows it in the viewer's own time zone."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


TEMPLATES.env.filters["iso"] = iso
TEMPLATES.env.filters["clock"] = clock
TEMPLATES.env.globals["static_version"] = STATIC_VERSION


@dataclass(frozen=True)
class Ui:
    """Everything a dashboard route needs to answer with a page."""

    request: Request
    viewer: Viewer | None
    t: Translator
    db: Database
    settings: Settings

    def page(self, template: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
        ctx = {
            "t": self.t, "locale": self.t.locale, "viewer": self.viewer, "Permission": Permission,
            "csrf": self.viewer.csrf_token if self.viewer else "", "path": self.request.url.path,
            "query": self.request.url.query,
            "here": self.request.url.path + (f"?{self.request.url.query}" if self.request.url.query else ""),
            **context,
        }
        response = TEMPLATES.TemplateResponse(self.request, template, ctx, status_code=status_code)
        response.headers.update(SECURITY_HEADERS)
        response.headers.update(headers or {})
        return response

    def sees_store(self, store_id: str) -> bool:
        """A signed-in viewer sees every store, or only the one their account is bound to."""
        return self.viewer is not None and self.viewer.store_id in (None, store_id)

    def not_found(self, message_key: str = "err.not_found") -> HTMLResponse:
        """The 404 page; also what a viewer bound to another store gets (it does not say the store exists)."""
        return self.page("error.html", status_code=404, message=self.t(message_key))

    def store_chooser(self, section: str, template: str) -> Response:
        """``/<section>``: a store-bound viewer goes straight to ``/stores/<their store>/<section>``; others
        choose among the stores central knows (``template`` gets ``stores``)."""
        from services.central.stores import known_stores

        assert self.viewer is not None
        if self.viewer.store_id is not None:
            return RedirectResponse(f"/stores/{self.viewer.store_id}/{section}", status_code=303)
        with self.db.read_session() as session:
            stores = known_stores(session)
        return self.page(template, stores=stores)


def _ui(request: Request, viewer: Viewer | None, db: Database, settings: Settings) -> Ui:
    return Ui(request, viewer, Translator(locale_of(request, viewer, db, settings)), db, settings)


def public_ui(request: Request, viewer: OptionalViewer, db: DatabaseDep, settings: SettingsDep) -> Ui:
    return _ui(request, viewer, db, settings)


def signed_in_ui(request: Request, viewer: ViewerDep, db: DatabaseDep, settings: SettingsDep) -> Ui:
    if not viewer.role.allows(Permission.VIEW):
        raise NotAllowed(Permission.VIEW.value, viewer)
    return _ui(request, viewer, db, settings)


def audit_ui(request: Request, viewer: ViewerDep, db: DatabaseDep, settings: SettingsDep) -> Ui:
    if not viewer.role.allows(Permission.AUDIT):
        raise NotAllowed(Permission.AUDIT.value, viewer)
    return _ui(request, viewer, db, settings)


PublicUi = Annotated[Ui, Depends(public_ui)]
SignedInUi = Annotated[Ui, Depends(signed_in_ui)]
AuditUi = Annotated[Ui, Depends(audit_ui)]

static_router = APIRouter(include_in_schema=False)


@static_router.get("/static/{name}")
def static_file(name: str) -> Response:
    path = STATIC_DIR / name
    if "/" in name or path.suffix not in _STATIC_TYPES or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no static file {name!r}")
    # The pages link ?v=<digest of the files>, so a long cache never serves a stale script.
    return Response(path.read_bytes(), media_type=_STATIC_TYPES[path.suffix],
                    headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})


def install_handlers(app: FastAPI) -> None:
    """Access errors raised by dashboard dependencies, as a person (or htmx) expects them."""

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        target = login_url(exc.next_path)
        if request.headers.get("hx-request") == "true":
            return PlainTextResponse("sign in first", status_code=401, headers={"HX-Redirect": target})
        if request.url.path.startswith("/ui/"):
            return PlainTextResponse("sign in first", status_code=401)
        return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)

    def _error_page(request: Request, viewer: Viewer | None, message_key: str, code: int) -> Response:
        ui = _ui(request, viewer, request.app.state.db, request.app.state.settings)
        return ui.page("error.html", status_code=code, message=ui.t(message_key))

    @app.exception_handler(NotAllowed)
    def _not_allowed(request: Request, exc: NotAllowed) -> Response:
        return _error_page(request, exc.viewer, "err.forbidden", status.HTTP_403_FORBIDDEN)

    @app.exception_handler(CsrfRejected)
    def _csrf(request: Request, exc: CsrfRejected) -> Response:
        return _error_page(request, exc.viewer, "err.csrf", status.HTTP_403_FORBIDDEN)
