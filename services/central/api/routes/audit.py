"""``/api/v1/audit``: read the chain and verify it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from services.central import audit
from services.central.api.deps import AuditReader, ReadSession
from services.central.api.schemas.audit import AuditEntryOut, VerifyOut
from services.central.api.schemas.common import MAX_DB_INT, MAX_OFFSET, Page
from services.central.db.tables import AuditEntry

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEntryOut])
def list_audit(
    session: ReadSession,
    _: AuditReader,
    action: str | None = None,
    actor: str | None = None,
    subject: str | None = None,
    after_seq: Annotated[int | None, Query(ge=0, le=MAX_DB_INT, description="only entries with seq > this")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[AuditEntryOut]:
    """Entries, newest first."""
    conditions = [
        c for c in (
            AuditEntry.action == action if action else None,
            AuditEntry.actor == actor if actor else None,
            AuditEntry.subject == subject if subject else None,
            AuditEntry.seq > after_seq if after_seq is not None else None,
        ) if c is not None
    ]
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    rows = session.scalars(
        select(AuditEntry).where(*conditions).order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)
    ).all()
    return Page[AuditEntryOut](data=[AuditEntryOut.model_validate(r) for r in rows], count=total)


@router.get("/verify", response_model=VerifyOut)
def verify_audit(session: ReadSession, _: AuditReader) -> VerifyOut:
    """Walk the whole chain; ``ok`` false names the first bad entry and why."""
    return VerifyOut.model_validate(audit.verify(session))
