"""Who is looking, what they may do, and which language they read: dashboard dependencies.

Secure by default: every dashboard route but sign-in and static files takes :data:`ViewerDep`
(or a :func:`require` alias). A page without a session redirects to ``/login``; an htmx
request, an image or the event stream gets 401. A form post must carry the session's CSRF
token (hidden field ``csrf_token`` or header ``X-CSRF-Token``), else 403.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from services.central.api.deps import DatabaseDep, SettingsDep
from services.central.stores import get_profile, locale_for
from services.central.users.roles import Permission
from services.central.users.sessions import Viewer, resolve, touch

SESSION_COOKIE = "anshin_session"
LANG_COOKIE = "anshin_lang"
LOGIN_CSRF_COOKIE = "anshin_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """No valid session; the handler redirects pages to /login and answers 401 otherwise."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class NotAllowed(Exception):
    """Signed in, but the role lacks the permission (403 page)."""

    def __init__(self, permission: str, viewer: Viewer | None = None) -> None:
        super().__init__(permission)
        self.viewer = viewer


class CsrfRejected(Exception):
    """A form post without this session's CSRF token (403)."""

    def __init__(self, viewer: Viewer | None = None) -> None:
        super().__init__("csrf")
        self.viewer = viewer


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


def safe_next(value: str | None) -> str:
    """A local path to go to after sign-in; anything else goes to the queue.

    >>> safe_next("/reviews/3"), safe_next("//evil.example/x"), safe_next("https://evil.example"), safe_next(None)
    ('/reviews/3', '/queue', '/queue', '/queue')
    """
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/queue"


def optional_viewer(request: Request, db: DatabaseDep, settings: SettingsDep) -> Viewer | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    with db.read_session() as session:
        viewer, stale = resolve(session, token, settings.session_idle_s)
    if viewer is not None and stale:
        with db.unit_of_work() as session:
            touch(session, token)
    return viewer


def current_viewer(request: Request, viewer: Annotated[Viewer | None, Depends(optional_viewer)]) -> Viewer:
    if viewer is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(path)
    return viewer


ViewerDep = Annotated[Viewer, Depends(current_viewer)]
OptionalViewer = Annotated[Viewer | None, Depends(optional_viewer)]


def require(permission: Permission) -> Callable[[Viewer], Viewer]:
    """Dependency: the signed-in viewer, whose role must allow ``permission``."""

    def dependency(viewer: ViewerDep) -> Viewer:
        if not viewer.role.allows(permission):
            raise NotAllowed(permission.value, viewer)
        return viewer

    dependency.__name__ = f"require_{permission.value}"
    return dependency


Reader = Annotated[Viewer, Depends(require(Permission.VIEW))]
Decider = Annotated[Viewer, Depends(require(Permission.DECIDE))]
Auditor = Annotated[Viewer, Depends(require(Permission.AUDIT))]


async def check_csrf(request: Request, viewer: ViewerDep) -> Viewer:
    """The viewer, after checking the posted CSRF token against their session's."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if not secrets.compare_digest(sent.encode(), viewer.csrf_token.encode()):
        raise CsrfRejected(viewer)
    return viewer


CsrfViewer = Annotated[Viewer, Depends(check_csrf)]


def locale_of(request: Request, viewer: Viewer | None, db: DatabaseDep, settings: SettingsDep) -> str:
    """The viewer's language: their switch (cookie), their account, else their store's country."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in ("ja", "en"):
        return chosen
    if viewer is not None and viewer.locale in ("ja", "en"):
        return viewer.locale
    country = settings.default_country
    if viewer is not None and viewer.store_id is not None:
        with db.read_session() as session:
            country = get_profile(session, viewer.store_id, settings).country
    return locale_for(country)


def cookie_secure(request: Request, setting: str) -> bool:
    if setting == "always":
        return True
    if setting == "never":
        return False
    return request.url.scheme == "https"


def visible_store(viewer: Viewer, requested: str | None) -> str | None:
    """The store a viewer's query is limited to: a store-bound user sees only their store."""
    return viewer.store_id if viewer.store_id is not None else (requested or None)
