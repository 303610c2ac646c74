"""The live review queue: ``/queue`` (page) and ``/queue/items`` (the part htmx refreshes).

Items come most severe first, then earliest deadline (``review.service.list_items``); overdue
ones carry a badge and a row style. The list refreshes itself when the event stream reports a
review change, and every 15 s so deadlines that pass without any change still show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central.dashboard.access import visible_store
from services.central.dashboard.web import SignedInUi, Ui
from services.central.db.tables import ReviewItem
from services.central.review import service as review
from services.central.review.machine import OPEN, State
from services.central.stores import known_stores
from services.central.users.service import names_by_actor
from services.central.users.sessions import Viewer

router = APIRouter(include_in_schema=False)

PAGE = 100
#: Items created this recently get a "new" badge.
NEW_FOR = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    store: str | None
    camera: str | None
    use_case: str | None
    state: str  # a State value, "open" or "all"

    @classmethod
    def parse(cls, viewer: Viewer, store: str | None, camera: str | None, use_case: str | None, state: str | None) -> QueueFilter:
        state = state if state in {"open", "all", *State} else "open"
        return cls(visible_store(viewer, store), camera or None, use_case or None, state)

    def review_filter(self) -> review.ReviewFilter:
        states: tuple[State, ...] = ()
        if self.state == "open":
            states = tuple(sorted(OPEN))
        elif self.state != "all":
            states = (State(self.state),)
        return review.ReviewFilter(states=states, store_id=self.store, camera_id=self.camera, use_case=self.use_case)

    def query(self, **changes: str) -> str:
        """This filter as a query string, with ``changes`` applied (e.g. ``state="dismissed"``)."""
        values = {"store": self.store, "camera": self.camera, "use_case": self.use_case, "state": self.state, **changes}
        return urlencode({k: v for k, v in values.items() if v})


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: int
    severity: str
    event_type: str
    store_id: str
    camera_id: str
    state: str
    deadline: datetime
    overdue: bool
    minutes: int  # whole minutes past (overdue) or until the deadline
    claimed_by: str | None
    occurred_at: datetime
    awaiting_second: bool
    two_person: bool
    new: bool


def _rows(session: Session, items: list[ReviewItem], now: datetime) -> list[QueueRow]:
    names = names_by_actor(session, {i.claimed_by for i in items if i.claimed_by})
    rows = []
    for i in items:
        overdue = review.is_overdue(i, now)
        seconds = (now - i.deadline).total_seconds() if overdue else (i.deadline - now).total_seconds()
        rows.append(QueueRow(
            id=i.id, severity=i.severity, event_type=i.event_type, store_id=i.store_id, camera_id=i.camera_id,
            state=i.state, deadline=i.deadline, overdue=overdue, minutes=max(0, int(seconds // 60)),
            claimed_by=names.get(i.claimed_by, i.claimed_by) if i.claimed_by else None,
            occurred_at=i.event.occurred_at, awaiting_second=review.awaiting_second(i),
            two_person=i.required_decisions > 1, new=now - i.created_at < NEW_FOR,
        ))
    return rows


def _options(session: Session, viewer: Viewer, f: QueueFilter) -> dict[str, list[str]]:
    stores = [viewer.store_id] if viewer.store_id else known_stores(session)
    cameras_q = select(ReviewItem.camera_id).distinct().order_by(ReviewItem.camera_id)
    use_cases_q = select(ReviewItem.use_case).distinct()
    # A store-bound viewer's filter is always their store (QueueFilter.parse): the options list
    # only what that store has, never a camera or use case seen elsewhere.
    scope = f.store or viewer.store_id
    if scope:
        cameras_q = cameras_q.where(ReviewItem.store_id == scope)
        use_cases_q = use_cases_q.where(ReviewItem.store_id == scope)
    use_cases = sorted(session.scalars(use_cases_q).all())
    return {"stores": stores, "cameras": list(session.scalars(cameras_q).all()), "use_cases": use_cases}


def _context(ui: Ui, f: QueueFilter) -> dict[str, Any]:
    assert ui.viewer is not None
    now = datetime.now(timezone.utc)
    with ui.db.read_session() as session:
        items, total = review.list_items(session, f.review_filter(), PAGE, 0, now)
        counts, overdue = review.count_by_state(session, f.review_filter(), now)
        rows = _rows(session, items, now)
        options = _options(session, ui.viewer, f)
    return {"filter": f, "rows": rows, "total": total, "counts": counts, "overdue_count": overdue,
            "options": options, "states": list(State)}


@router.get("/")
def home() -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue")
def queue_page(ui: SignedInUi, store: str | None = None, camera: str | None = None, use_case: str | None = None,
               state: str | None = None, done: int | None = None) -> Response:
    assert ui.viewer is not None
    f = QueueFilter.parse(ui.viewer, store, camera, use_case, state)
    return ui.page("queue.html", done=done, **_context(ui, f))


@router.get("/queue/items")
def queue_items(ui: SignedInUi, store: str | None = None, camera: str | None = None, use_case: str | None = None,
                state: str | None = None) -> Response:
    """The counts and the table only (htmx swaps them in); the address bar follows the filters."""
    assert ui.viewer is not None
    f = QueueFilter.parse(ui.viewer, store, camera, use_case, state)
    return ui.page("_queue_items.html", headers={"HX-Replace-Url": f"/queue?{f.query()}"}, **_context(ui, f))
