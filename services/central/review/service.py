"""Review items in the database: open, claim, release, decide, list. Each change is audited.

Functions work inside the caller's transaction and never commit (one commit per unit of
work, in the route or CLI). Items are read ``FOR UPDATE`` on PostgreSQL; on SQLite the write
unit already holds the database write lock (``Database.write_session``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from services.central import audit
from services.central.audit.rows import ROW_DIGEST, decision_digest
from services.central.db.tables import EventRow, ReviewDecision, ReviewItem, UserRow
from services.central.review.machine import (
    FINAL,
    OPEN,
    Decision,
    ItemView,
    State,
)
from services.central.review.machine import (
    claim as claim_transition,
)
from services.central.review.machine import (
    decide as decide_transition,
)
from services.central.review.machine import (
    release as release_transition,
)
from services.central.review.reasons import is_reason_code
from services.central.review.rules import Reviewer, ReviewForbidden, check_claim, check_decide, check_release
from services.central.settings import Settings
from services.central.usecases import USE_CASES
from services.central.users.actors import user_id_of
from services.central.users.roles import Role

#: Queue order: most severe first.
SEVERITY_RANK = {"critical": 0, "warning": 1, "notice": 2, "info": 3}


class ReviewNotFound(LookupError):
    """No review item with this id (or not visible to this principal)."""


class ReviewInputError(ValueError):
    """A decision is missing something it needs; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _digest(text: str | None) -> str | None:
    # Free text may hold personal data: the audit chain keeps only its digest.
    return hashlib.sha256(text.encode()).hexdigest() if text else None


def deadline_for(settings: Settings, event_type: str, occurred_at: datetime, received_at: datetime) -> datetime:
    """When a decision is due: the configured seconds after the event happened.

    Counted from ``occurred_at`` (a late delivery is already late), but never from a future
    time, so a fast edge clock cannot push the deadline out.

    >>> t = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
    >>> deadline_for(Settings(), "entrance.fever_suspected", t, t + timedelta(seconds=30)).isoformat()
    '2026-01-01T09:05:00+00:00'
    >>> deadline_for(Settings(), "behaviour.suspicious", t + timedelta(hours=1), t).isoformat()
    '2026-01-01T09:15:00+00:00'
    """
    start = min(occurred_at, received_at)
    return start + timedelta(seconds=settings.review_deadline_s(event_type))


def open_item(session: Session, event: EventRow, settings: Settings, now: datetime) -> ReviewItem:
    """Create the pending review item of a newly stored ``review_required`` event (no audit of
    its own: the ingest batch's audit entry covers it)."""
    item = ReviewItem(
        event_id=event.event_id,
        state=State.PENDING.value,
        event_type=event.type,
        store_id=event.store_id,
        camera_id=event.camera_id,
        use_case=event.use_case,
        severity=event.severity,
        severity_rank=SEVERITY_RANK.get(event.severity, len(SEVERITY_RANK)),
        required_decisions=2 if settings.requires_two_reviewers(event.type) else 1,
        round=1,
        deadline=deadline_for(settings, event.type, event.occurred_at, now),
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    return item


def round_decisions(item: ReviewItem) -> tuple[tuple[str, Decision], ...]:
    return tuple((d.actor, Decision(d.decision)) for d in item.decisions if d.round == item.round)


def view(item: ReviewItem) -> ItemView:
    return ItemView(State(item.state), item.claimed_by, item.required_decisions, round_decisions(item), item.round)


def reviewer_of(session: Session, actor: str | Reviewer) -> Reviewer:
    """Who acts: a :class:`Reviewer` passes through; ``user:<id>`` becomes that person with the
    role their account has now (refused if it is gone or disabled); any other name is a
    non-person (an API key, the CLI) with no role."""
    if isinstance(actor, Reviewer):
        return actor
    user_id = user_id_of(actor)
    if user_id is None:
        return Reviewer(actor, None)
    user = session.get(UserRow, user_id)
    if user is None or user.disabled_at is not None:
        raise ReviewForbidden(f"{actor} is not an active account")
    return Reviewer(actor, Role(user.role))


def awaiting_second(item: ReviewItem) -> bool:
    return item.state == State.CLAIMED and 0 < len(round_decisions(item)) < item.required_decisions


def is_overdue(item: ReviewItem, now: datetime) -> bool:
    return item.state in OPEN and item.deadline < now


def get(session: Session, item_id: int, store_id: str | None = None, for_update: bool = False) -> ReviewItem:
    """The item, or :class:`ReviewNotFound`; ``store_id`` limits what a store-bound key sees."""
    query = select(ReviewItem).where(ReviewItem.id == item_id)
    if store_id is not None:
        query = query.where(ReviewItem.store_id == store_id)
    if for_update:
        query = query.with_for_update(of=ReviewItem)
    item = session.scalar(query)
    if item is None:
        raise ReviewNotFound(f"no review item {item_id}")
    return item


def _audit(session: Session, actor: str, action: str, item: ReviewItem, **extra: object) -> None:
    details = {"item_id": item.id, "event_id": str(item.event_id), "state": item.state, "round": item.round}
    details.update({k: v for k, v in extra.items() if v is not None})
    audit.append(session, actor, action, f"review_item:{item.id}", details)


def claim(session: Session, item_id: int, actor: str | Reviewer, store_id: str | None = None) -> ReviewItem:
    """Claim for ``actor`` (see :mod:`.rules` for who may)."""
    reviewer = reviewer_of(session, actor)
    actor = reviewer.actor
    item = get(session, item_id, store_id, for_update=True)
    check_claim(view(item), reviewer)
    already_ours = item.state == State.CLAIMED and item.claimed_by == actor
    item.state = claim_transition(view(item), actor).value
    if already_ours:
        return item  # a repeated click: nothing changed, nothing to audit
    now = _now()
    item.claimed_by, item.claimed_at, item.updated_at = actor, now, now
    _audit(session, actor, "review.claim", item)
    return item


def release(
    session: Session, item_id: int, actor: str | Reviewer, may_override: bool = False, store_id: str | None = None
) -> ReviewItem:
    """Give a claim back; someone else's claim only where :func:`.rules.check_release` allows
    (``may_override`` from the caller can only narrow that, never widen it)."""
    reviewer = reviewer_of(session, actor)
    actor = reviewer.actor
    item = get(session, item_id, store_id, for_update=True)
    holder = item.claimed_by
    allowed = check_release(view(item), reviewer)
    may_override = may_override and allowed
    item.state = release_transition(view(item), actor, may_override).value
    item.claimed_by, item.claimed_at, item.updated_at = None, None, _now()
    _audit(session, actor, "review.release", item, released_from=holder if holder != actor else None)
    return item


def decide(
    session: Session,
    item_id: int,
    actor: str | Reviewer,
    decision: Decision,
    reason: str | None = None,
    note: str | None = None,
    store_id: str | None = None,
) -> ReviewItem:
    """Record one reviewer's decision and move the item (``machine.decide``; who may: ``rules``).

    The audit entry records the decision row's digest, so ``audit verify`` notices if the row
    is edited later (:mod:`services.central.audit.rows`).
    """
    reviewer = reviewer_of(session, actor)
    actor = reviewer.actor
    reason = (reason or "").strip() or None
    if decision == Decision.DISMISS and reason is None:
        raise ReviewInputError("reason", "a dismissal needs a reason, e.g. 'hot drink; clinical thermometer 36.6 °C'")
    item = get(session, item_id, store_id, for_update=True)
    check_decide(view(item), reviewer, decision)
    outcome = decide_transition(view(item), actor, decision)
    now = _now()
    decided_round = item.round
    row = ReviewDecision(round=decided_round, actor=actor, at=now, decision=decision.value, reason=reason, note=note)
    item.decisions.append(row)
    item.state, item.updated_at = outcome.state.value, now
    if outcome.new_round:
        item.round += 1
        item.claimed_by, item.claimed_at = None, None
    session.flush()
    _audit(
        session, actor, "review.decision", item,
        decision=decision.value, decided_round=decided_round,
        awaiting_second=True if outcome.awaiting_second else None,
        decision_id=row.id, **{ROW_DIGEST: decision_digest(row)},
        reason_sha256=_digest(reason), note_sha256=_digest(note),
        reason_code=reason if is_reason_code(reason) else None,  # a listed code holds no personal data
    )
    if outcome.state in FINAL:
        _notify_use_case(session, item)
    return item


def _notify_use_case(session: Session, item: ReviewItem) -> None:
    """Hand a final decision to the use case of the item's event (its ``on_decided`` hook), in
    this transaction: if the hook fails, the decision rolls back with it."""
    for use_case in USE_CASES:
        if use_case.use_case.value == item.use_case and use_case.on_decided is not None:
            event = session.scalar(select(EventRow).where(EventRow.event_id == item.event_id))
            if event is None:  # retention may have purged the event; the item outlives it
                continue
            use_case.on_decided(session, item, event, item.state)


@dataclass(frozen=True, slots=True)
class ReviewFilter:
    states: Sequence[State] = ()
    store_id: str | None = None
    camera_id: str | None = None
    use_case: str | None = None
    overdue: bool | None = None


def _filtered(query: Select, f: ReviewFilter, now: datetime) -> Select:  # type: ignore[type-arg]
    if f.states:
        query = query.where(ReviewItem.state.in_([s.value for s in f.states]))
    if f.store_id is not None:
        query = query.where(ReviewItem.store_id == f.store_id)
    if f.camera_id is not None:
        query = query.where(ReviewItem.camera_id == f.camera_id)
    if f.use_case is not None:
        query = query.where(ReviewItem.use_case == f.use_case)
    overdue = and_(ReviewItem.state.in_([s.value for s in OPEN]), ReviewItem.deadline < now)
    if f.overdue is True:
        query = query.where(overdue)
    elif f.overdue is False:
        query = query.where(or_(ReviewItem.state.not_in([s.value for s in OPEN]), ReviewItem.deadline >= now))
    return query


def list_items(
    session: Session, f: ReviewFilter, limit: int, offset: int, now: datetime | None = None
) -> tuple[list[ReviewItem], int]:
    """A page of items, most severe first, then earliest deadline; and the total count."""
    now = now or _now()
    total = session.scalar(_filtered(select(func.count()).select_from(ReviewItem), f, now)) or 0
    page = session.scalars(
        _filtered(select(ReviewItem), f, now)
        .order_by(ReviewItem.severity_rank, ReviewItem.deadline, ReviewItem.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(page), total


def count_by_state(session: Session, f: ReviewFilter, now: datetime | None = None) -> tuple[dict[State, int], int]:
    """Items per state under ``f`` (its ``states`` ignored, so every state is counted), and how
    many open ones are overdue."""
    now = now or _now()
    base = ReviewFilter(store_id=f.store_id, camera_id=f.camera_id, use_case=f.use_case)
    rows = session.execute(
        _filtered(select(ReviewItem.state, func.count()).select_from(ReviewItem), base, now).group_by(ReviewItem.state)
    ).all()
    counts = dict.fromkeys(State, 0)
    counts.update({State(state): int(n) for state, n in rows})
    overdue = session.scalar(
        _filtered(select(func.count()).select_from(ReviewItem), ReviewFilter(
            store_id=f.store_id, camera_id=f.camera_id, use_case=f.use_case, overdue=True), now)
    ) or 0
    return counts, int(overdue)
