"""Sign in, sign out, language switch.

The sign-in form is protected against login CSRF by a double-submit token (a random cookie that
the form must repeat); after sign-in every form carries the session's own CSRF token.

Signing in is throttled per client address and per account and never holds the database while
argon2 runs (:mod:`services.central.users.signin`); the route is async so that waiting attempts
hold no request thread either.
"""

from __future__ import annotations

import secrets
import threading
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import RedirectResponse, Response

from services.central.dashboard.access import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfViewer,
    NotAllowed,
    cookie_secure,
    require,
    safe_next,
)
from services.central.dashboard.web import PublicUi, SignedInUi, Ui
from services.central.db.tables import UserRow
from services.central.settings import Settings
from services.central.users.roles import Permission
from services.central.users.sessions import Viewer, end_session
from services.central.users.signin import locked_accounts, may_unlock, sign_in, unlock
from services.central.users.throttle import SignInThrottle

router = APIRouter(include_in_schema=False)

#: Messages of this view only (en, ja): the failure text says what may have happened without
#: telling which (wrong name, wrong password, locked account).
_TEXT = {
    "failed": ("Wrong user name or password. After repeated failures an account is locked; a manager can unlock it.",
               "ユーザー名またはパスワードが違います。失敗が続くとアカウントはロックされます。解除は管理者に依頼してください。"),
    "throttled": ("Too many sign-in attempts. Please wait {s} seconds and try again.",
                  "サインインの試行が多すぎます。{s} 秒待ってからもう一度お試しください。"),
    "locked.title": ("Locked accounts", "ロックされたアカウント"),
    "locked.none": ("No account you may unlock is locked.", "解除できるロック中のアカウントはありません。"),
    "locked.name": ("User", "ユーザー"),
    "locked.role": ("Role", "ロール"),
    "locked.store": ("Store", "店舗"),
    "locked.since": ("Locked since", "ロック日時"),
    "locked.failures": ("Failed sign-ins", "失敗回数"),
    "locked.unlock": ("Unlock", "ロック解除"),
    "locked.done": ("Account {name} unlocked.", "{name} のロックを解除しました。"),
    "locked.not_yours": ("You may not unlock this account.", "このアカウントのロックは解除できません。"),
}
_THROTTLE_LOCK = threading.Lock()


def _text(ui: Ui, key: str, **values: object) -> str:
    en, ja = _TEXT[key]
    return (ja if ui.t.locale == "ja" else en).format(**values)


def throttle_of(request: Request, settings: Settings) -> SignInThrottle:
    """The app's sign-in throttle (one per app, made on first use)."""
    state = request.app.state
    with _THROTTLE_LOCK:
        if getattr(state, "sign_in_throttle", None) is None:
            state.sign_in_throttle = SignInThrottle(
                settings.sign_in_address_per_min, settings.sign_in_account_per_min, settings.sign_in_concurrency)
        return state.sign_in_throttle  # type: ignore[no-any-return]


def _login_page(ui: PublicUi, next_path: str, status_code: int = 200, error: str | None = None,
                notice: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    response = ui.page("login.html", status_code=status_code, login_csrf=token, next=next_path, error=error, notice=notice)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=cookie_secure(ui.request, ui.settings.cookie_secure), path="/login")
    return response


@router.get("/login")
def login_form(ui: PublicUi, next: str | None = None, out: bool = False) -> Response:  # noqa: A002 - the query name
    if ui.viewer is not None:
        return RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    return _login_page(ui, safe_next(next), notice=ui.t("login.signed_out") if out else None)


@router.post("/login")
async def login(
    ui: PublicUi,
    request: Request,
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/queue",  # noqa: A002
) -> Response:
    target = safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), csrf_token.encode()):
        return _login_page(ui, target, status.HTTP_403_FORBIDDEN, error=ui.t("login.expired"))
    address = request.client.host if request.client else "unknown"
    result = await sign_in(ui.db, throttle_of(request, ui.settings), ui.settings, name.strip(), password, address)
    if result.refusal is not None:
        page = _login_page(ui, target, status.HTTP_429_TOO_MANY_REQUESTS,
                           error=_text(ui, "throttled", s=result.refusal.retry_after_s))
        page.headers["Retry-After"] = str(result.refusal.retry_after_s)
        return page
    if result.token is None:
        return _login_page(ui, target, status.HTTP_401_UNAUTHORIZED, error=_text(ui, "failed"))
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(SESSION_COOKIE, result.token, max_age=ui.settings.session_max_s, httponly=True, samesite="lax",
                        secure=cookie_secure(request, ui.settings.cookie_secure), path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(ui: PublicUi, request: Request, viewer: CsrfViewer) -> Response:
    with ui.db.unit_of_work() as session:
        end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login?out=1", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


Unlocker = Annotated[Viewer, Depends(require(Permission.UNLOCK_ACCOUNTS))]


@router.get("/accounts/locked")
def locked_list(ui: SignedInUi, viewer: Unlocker, done: str | None = None) -> Response:
    """Accounts locked after repeated failed sign-ins that this manager or admin may unlock."""
    with ui.db.read_session() as session:
        rows = locked_accounts(session, viewer.role, viewer.store_id)
    texts = {k.removeprefix("locked."): _text(ui, k) for k in _TEXT if k.startswith("locked.") and k != "locked.done"}
    notice = _text(ui, "locked.done", name=done) if done else None
    return ui.page("accounts_locked.html", accounts=rows, text=texts, notice=notice)


@router.post("/accounts/{user_id}/unlock")
def unlock_account(user_id: int, ui: SignedInUi, viewer: CsrfViewer) -> Response:
    """Lift a lockout (audited as ``user.unlock`` by the manager or admin)."""
    if not viewer.role.allows(Permission.UNLOCK_ACCOUNTS):
        raise NotAllowed(Permission.UNLOCK_ACCOUNTS.value, viewer)
    with ui.db.unit_of_work() as session:
        user = session.get(UserRow, user_id)
        if user is None or not may_unlock(viewer.role, viewer.store_id, user):
            return ui.page("error.html", status_code=status.HTTP_403_FORBIDDEN, message=_text(ui, "locked.not_yours"))
        unlock(session, user, viewer.actor, ui.settings.sign_in_audit_window_s)
        name = user.name
    return RedirectResponse(f"/accounts/locked?done={quote(name)}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/lang/{locale}")
def switch_language(locale: str, next: str | None = None) -> Response:  # noqa: A002
    """Remember the viewer's language (a preference cookie, nothing else) and go back."""
    response = RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    if locale in ("ja", "en"):
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response
