"""Audit log shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.central.api.schemas.common import Out


class AuditEntryOut(Out):
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class VerifyOut(Out):
    """``ok`` false names the first bad entry; keep ``head_seq``/``head_hash`` elsewhere to
    detect later truncation of the newest entries."""

    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str | None
    head_seq: int | None
    head_hash: str | None
