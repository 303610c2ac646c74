"""``/api/v1/reviews``: the human-in-the-loop queue. Logic lives in ``central/review``."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from services.central.api.deps import DatabaseDep, ReadSession, ReviewsReader, ReviewsWriter, store_scope
from services.central.api.schemas.common import Page
from services.central.api.schemas.events import EventOut
from services.central.api.schemas.reviews import DecisionIn, DecisionOut, ReviewItemOut
from services.central.auth import Principal, Scope
from services.central.db.tables import ReviewItem
from services.central.review import service as review
from services.central.review.machine import State
from services.central.review.rules import Reviewer, ReviewForbidden
from services.contract import UseCase

router = APIRouter(prefix="/api/v1/reviews", tags=["reviews"])

_CONFLICT = {409: {"description": "not allowed from the item's current state (message says why)"},
             403: {"description": "an API key may not take this step (escalated or two-person item)"},
             404: {"description": "no such item"}}


def _reviewer(principal: Principal) -> Reviewer:
    """An API key acts as itself and is never a person (``review.rules``)."""
    return Reviewer(principal.name, None, admin_key=principal.allows(Scope.ADMIN))


def _forbidden(exc: ReviewForbidden) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, str(exc))


def review_out(item: ReviewItem, now: datetime | None = None) -> ReviewItemOut:
    now = now or datetime.now(timezone.utc)
    return ReviewItemOut(
        id=item.id,
        event_id=item.event_id,
        state=State(item.state),
        event_type=item.event_type,
        store_id=item.store_id,
        camera_id=item.camera_id,
        use_case=item.use_case,
        severity=item.severity,
        deadline=item.deadline,
        overdue=review.is_overdue(item, now),
        claimed_by=item.claimed_by,
        claimed_at=item.claimed_at,
        required_decisions=item.required_decisions,
        round=item.round,
        awaiting_second=review.awaiting_second(item),
        decisions=[DecisionOut.model_validate(d) for d in item.decisions],
        created_at=item.created_at,
        updated_at=item.updated_at,
        event=EventOut.model_validate(item.event),
    )


@router.get("", response_model=Page[ReviewItemOut])
def list_reviews(
    session: ReadSession,
    principal: ReviewsReader,
    state: Annotated[list[State], Query(description="repeat to match several states")] = [],  # noqa: B006
    store_id: str | None = None,
    camera_id: str | None = None,
    use_case: UseCase | None = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ReviewItemOut]:
    """Review items, most severe first, then earliest deadline."""
    now = datetime.now(timezone.utc)
    f = review.ReviewFilter(
        states=tuple(state),
        store_id=store_scope(principal, store_id),
        camera_id=camera_id,
        use_case=use_case.value if use_case else None,
        overdue=overdue,
    )
    items, total = review.list_items(session, f, limit, offset, now)
    return Page[ReviewItemOut](data=[review_out(i, now) for i in items], count=total)


@router.get("/{item_id}", response_model=ReviewItemOut, responses=_CONFLICT)
def get_review(item_id: int, session: ReadSession, principal: ReviewsReader) -> ReviewItemOut:
    return review_out(review.get(session, item_id, store_scope(principal, None)))


@router.post("/{item_id}/claim", response_model=ReviewItemOut, responses=_CONFLICT)
def claim_review(item_id: int, db: DatabaseDep, principal: ReviewsWriter) -> ReviewItemOut:
    """Take an item (pending or escalated) so colleagues see someone is on it."""
    try:
        with db.unit_of_work() as session:
            return review_out(review.claim(session, item_id, _reviewer(principal), store_scope(principal, None)))
    except ReviewForbidden as exc:
        raise _forbidden(exc) from None


@router.post("/{item_id}/release", response_model=ReviewItemOut, responses=_CONFLICT)
def release_review(item_id: int, db: DatabaseDep, principal: ReviewsWriter) -> ReviewItemOut:
    """Give a claimed item back to the queue (its holder, or an admin key)."""
    try:
        with db.unit_of_work() as session:
            item = review.release(session, item_id, _reviewer(principal), True, store_scope(principal, None))
            return review_out(item)
    except ReviewForbidden as exc:
        raise _forbidden(exc) from None


@router.post("/{item_id}/decision", response_model=ReviewItemOut, responses=_CONFLICT)
def decide_review(item_id: int, body: DecisionIn, db: DatabaseDep, principal: ReviewsWriter) -> ReviewItemOut:
    """Confirm, dismiss (with a reason) or escalate. Under the two-person rule the first
    confirm/dismiss leaves the item ``claimed`` with ``awaiting_second``; a different reviewer
    decides next. An API key never counts as one of the two people and never settles an
    escalated item (403): it may escalate, or confirm/dismiss a one-person item."""
    try:
        with db.unit_of_work() as session:
            item = review.decide(session, item_id, _reviewer(principal), body.decision, body.reason, body.note,
                                 store_scope(principal, None))
            return review_out(item)
    except ReviewForbidden as exc:
        raise _forbidden(exc) from None
