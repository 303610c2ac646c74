"""Audit view (auditor, manager, admin): browse and filter the chain; verify it.

Verification walks the whole chain (``services.central.audit.verify``) and shows either "intact"
with the head, or the first broken entry with the reason and a link that lists the chain up to it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import func, select

from services.central import audit
from services.central.dashboard.web import AuditUi, Ui
from services.central.db.tables import AuditEntry
from services.central.users.service import actor_of, find_user, names_by_actor

router = APIRouter(include_in_schema=False)

PAGE = 50


def _verify(ui: Ui) -> audit.VerifyResult:
    with ui.db.read_session() as session:
        return audit.verify(session)


def _entries(ui: Ui, action: str | None, actor: str | None, subject: str | None, before: int | None,
             offset: int) -> dict[str, Any]:
    with ui.db.read_session() as session:
        if actor and not actor.startswith("user:") and (user := find_user(session, actor)) is not None:
            actor = actor_of(user.id)  # people search by name; the chain knows user:<id>
        conditions = [c for c in (
            AuditEntry.action == action if action else None,
            AuditEntry.actor == actor if actor else None,
            AuditEntry.subject == subject if subject else None,
            AuditEntry.seq <= before if before is not None else None,
        ) if c is not None]
        total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
        rows = session.scalars(
            select(AuditEntry).where(*conditions).order_by(AuditEntry.seq.desc()).limit(PAGE).offset(offset)
        ).all()
        names = names_by_actor(session, {r.actor for r in rows})
        actions = session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    entries = [
        {"seq": r.seq, "at": r.at, "actor": r.actor, "actor_name": names.get(r.actor), "action": r.action,
         "subject": r.subject, "details": _short(json.dumps(r.details, ensure_ascii=False, sort_keys=True)),
         "hash": r.hash}
        for r in rows
    ]
    return {"entries": entries, "total": total, "actions": actions, "offset": offset, "page": PAGE,
            "f": {"action": action or "", "actor": actor or "", "subject": subject or "",
                  "before": "" if before is None else before}}


def _short(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@router.get("/audit")
def audit_page(ui: AuditUi, action: str | None = None, actor: str | None = None, subject: str | None = None,
               before: int | None = None, offset: int = 0, bad: int | None = None, verify: bool = False) -> Response:
    result = _verify(ui) if verify else None
    context = _entries(ui, action, actor, subject, before, max(0, offset))
    return ui.page("audit.html", result=result, bad=bad if result is None else result.first_bad_seq, **context)


@router.get("/audit/verify")
def audit_verify(ui: AuditUi) -> Response:
    """The verification result only (htmx swaps it into the page)."""
    return ui.page("_audit_verify.html", result=_verify(ui))
