"""Audit configuration changes: the review policy in force is recorded when it changes.

The policy (deadlines, two-person types) comes from settings; each app start compares its
digest with the last recorded one and appends a ``config.change`` entry if it differs, so the
audit chain shows which rules applied to every decision.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central import audit
from services.central.audit.chain import canonical_json
from services.central.db.tables import AuditEntry
from services.central.settings import Settings

SUBJECT = "config:review_policy"


def review_policy(settings: Settings) -> dict[str, Any]:
    """The settings that decide how review items are handled.

    >>> sorted(review_policy(Settings()))
    ['review_deadline_default_s', 'review_deadlines_s', 'two_person_types']
    """
    return {
        "review_deadline_default_s": settings.review_deadline_default_s,
        "review_deadlines_s": dict(sorted(settings.review_deadlines_s.items())),
        "two_person_types": sorted(settings.two_person_types),
    }


def record_review_policy(session: Session, settings: Settings, actor: str = "system") -> bool:
    """Append a ``config.change`` entry if the policy differs from the last one recorded.

    Returns True if an entry was written. The caller commits.
    """
    policy = review_policy(settings)
    digest = hashlib.sha256(canonical_json(policy)).hexdigest()
    audit.lock(session)  # replicas starting together must not both record the same change
    last = session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "config.change", AuditEntry.subject == SUBJECT)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )
    if last is not None and last.details.get("sha256") == digest:
        return False
    # Policy holds event types and numbers only, no personal data: safe to keep in full.
    audit.append(session, actor, "config.change", SUBJECT, {"sha256": digest, "policy": policy})
    return True
