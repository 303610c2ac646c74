"""One review item: evidence, explanation, history and the decision forms.

``/reviews/{id}`` is the page; ``/reviews/{id}/panel`` the part that refreshes when someone else
claims or decides. Forms post to ``claim``, ``release`` and ``decision`` and redirect back (a
final decision returns to the queue). Deciding a pending item claims it first, in the same
transaction, so one click decides. The rules themselves live in ``services.central.review``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Form, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from services.central.api.schemas.common import MAX_DB_INT
from services.central.dashboard.access import CsrfViewer
from services.central.dashboard.explain import explain, payload_rows
from services.central.dashboard.i18n import Translator
from services.central.dashboard.views.media import drawn_boxes, frame_size
from services.central.dashboard.web import SignedInUi, Ui
from services.central.db.tables import ReviewItem
from services.central.review import service as review
from services.central.review.machine import FINAL, Decision, ReviewConflict, State
from services.central.review.reasons import DISMISS_REASONS
from services.central.snapshots import parse_ref
from services.central.snapshots.service import find as find_snapshot
from services.central.stores import get_profile
from services.central.users.roles import Permission, may_see_faces
from services.central.users.service import names_by_actor
from services.central.users.sessions import Viewer

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class DecisionRow:
    round: int
    who: str
    at: datetime
    decision: str
    reason: str | None  # a listed code, or free text from the API
    note: str | None


@dataclass(frozen=True, slots=True)
class Panel:
    """What the viewer may do with the item now, and why not otherwise."""

    item_id: int
    state: str
    round: int
    deadline: datetime
    overdue: bool
    minutes: int
    two_person: bool
    claimed_by: str | None
    claimed_by_me: bool
    decisions: list[DecisionRow]
    awaiting_second: DecisionRow | None  # the first decision of this round, under the two-person rule
    i_decided: bool  # the viewer made that first decision
    can_claim: bool
    can_release: bool
    can_decide: bool
    blocked: str | None  # message key saying why the viewer cannot act, if they cannot


def _panel(session: Session, item: ReviewItem, viewer: Viewer, now: datetime) -> Panel:
    names = names_by_actor(session, {d.actor for d in item.decisions} | ({item.claimed_by} if item.claimed_by else set()))
    decisions = [DecisionRow(d.round, names.get(d.actor, d.actor), d.at, d.decision, d.reason, d.note) for d in item.decisions]
    this_round = [d for d, raw in zip(decisions, item.decisions) if raw.round == item.round]
    mine = any(raw.actor == viewer.actor for raw in item.decisions if raw.round == item.round)
    state = State(item.state)
    overdue = review.is_overdue(item, now)
    seconds = abs((now - item.deadline).total_seconds())
    claimed_by_me = item.claimed_by == viewer.actor
    settles_escalation = state == State.ESCALATED or (state == State.PENDING and item.round > 1)
    may = viewer.role.allows(Permission.DECIDE) and (
        not settles_escalation or viewer.role.allows(Permission.DECIDE_ESCALATED))
    awaiting = review.awaiting_second(item)

    blocked: str | None = None
    can_claim = can_decide = False
    if state in FINAL:
        pass
    elif not viewer.role.allows(Permission.DECIDE):
        blocked = "review.read_only"
    elif not may:
        blocked = "review.needs_manager"
    elif awaiting and mine:
        blocked = "review.you_decided"
    elif awaiting:
        can_decide = True
    elif state == State.CLAIMED and not claimed_by_me:
        blocked = None  # the panel says who holds it
    else:
        can_claim = state in (State.PENDING, State.ESCALATED)
        can_decide = True
    can_release = (state == State.CLAIMED and not awaiting
                   and (claimed_by_me or viewer.role.allows(Permission.RELEASE_ANY)))
    return Panel(
        item_id=item.id, state=item.state, round=item.round, deadline=item.deadline, overdue=overdue,
        minutes=int(seconds // 60), two_person=item.required_decisions > 1,
        claimed_by=names.get(item.claimed_by, item.claimed_by) if item.claimed_by else None,
        claimed_by_me=claimed_by_me, decisions=decisions,
        awaiting_second=this_round[0] if awaiting and this_round else None, i_decided=mine,
        can_claim=can_claim, can_release=can_release, can_decide=can_decide, blocked=blocked,
    )


@dataclass(frozen=True, slots=True)
class EvidenceView:
    has_picture: bool
    minimal: bool  # the store keeps no pictures
    faces_shown: bool
    width: int | None
    height: int | None
    boxes: list[dict[str, Any]]


def _evidence(session: Session, ui: Ui, item: ReviewItem) -> EvidenceView:
    assert ui.viewer is not None
    evidence = item.event.evidence if isinstance(item.event.evidence, dict) else {}
    profile = get_profile(session, item.store_id, ui.settings)
    sha = parse_ref(evidence.get("snapshot_ref"))
    row = find_snapshot(session, sha) if sha else None
    size = frame_size(evidence) or ((row.width, row.height) if row else (None, None))
    boxes = [  # drawn_boxes: finite and clamped, whatever odd numbers were stored
        {"x": b.xyxy[0], "y": b.xyxy[1], "w": b.xyxy[2] - b.xyxy[0], "h": b.xyxy[3] - b.xyxy[1],
         "label": b.label, "score": b.score, "track_id": b.track_id}
        for b in drawn_boxes(evidence)
    ]
    faces = row is not None and not row.anonymised and may_see_faces(ui.viewer.role, profile.privacy_profile)
    return EvidenceView(row is not None, profile.privacy_profile == "minimal", faces, size[0], size[1], boxes)


def _conflict_text(message: str, t: Translator, session: Session) -> str:
    """A state-machine refusal in the viewer's language (the machine speaks English)."""
    if message.startswith("two-person rule"):
        return t("err.two_person")
    if "decisions are final" in message:
        return t("err.final")
    if message.startswith(("already claimed by", "claimed by")):
        actor = message.split("'")[1] if "'" in message else ""
        return t("err.claimed_by", name=names_by_actor(session, {actor}).get(actor, actor))
    return message


def _page(ui: Ui, item_id: int, status_code: int = 200, error: str | None = None) -> Response:
    assert ui.viewer is not None
    if not 0 < item_id <= MAX_DB_INT:  # no such id can exist; SQLite would overflow past 2**63
        return ui.not_found()
    now = datetime.now(timezone.utc)
    with ui.db.read_session() as session:
        try:
            item = review.get(session, item_id, ui.viewer.store_id)
        except review.ReviewNotFound:
            return ui.not_found()
        event = item.event
        context = {
            "item": item, "event": event, "panel": _panel(session, item, ui.viewer, now),
            "evidence": _evidence(session, ui, item),
            "why": explain(event.explanation, event.evidence, ui.t),
            "details": payload_rows(event.payload, ui.t, event.explanation), "reasons": DISMISS_REASONS, "error": error,
        }
    return ui.page("review.html", status_code=status_code, **context)


@router.get("/reviews/{item_id}")
def review_page(item_id: int, ui: SignedInUi) -> Response:
    return _page(ui, item_id)


@router.get("/reviews/{item_id}/panel")
def review_panel(item_id: int, ui: SignedInUi) -> Response:
    assert ui.viewer is not None
    if not 0 < item_id <= MAX_DB_INT:
        return ui.not_found()
    with ui.db.read_session() as session:
        try:
            item = review.get(session, item_id, ui.viewer.store_id)
        except review.ReviewNotFound:
            return ui.not_found()
        panel = _panel(session, item, ui.viewer, datetime.now(timezone.utc))
    return ui.page("_review_panel.html", panel=panel, reasons=DISMISS_REASONS, error=None)


def _act(ui: Ui, item_id: int, action: Any) -> Response:
    """Run ``action(session, item)`` in one unit of work; a refusal re-renders the page with the reason."""
    assert ui.viewer is not None
    if not 0 < item_id <= MAX_DB_INT:
        return ui.not_found()
    try:
        with ui.db.unit_of_work() as session:
            item = review.get(session, item_id, ui.viewer.store_id, for_update=True)
            target = action(session, item)
    except review.ReviewNotFound:
        return ui.not_found()
    except ReviewConflict as e:
        with ui.db.read_session() as session:
            text = _conflict_text(str(e), ui.t, session)
        return _page(ui, item_id, status.HTTP_409_CONFLICT, error=text)
    except review.ReviewInputError:
        return _page(ui, item_id, status.HTTP_422_UNPROCESSABLE_CONTENT, error=ui.t("err.reason"))
    except _BadForm as e:
        return _page(ui, item_id, status.HTTP_422_UNPROCESSABLE_CONTENT, error=ui.t(str(e)))
    except _NotYours as e:
        return _page(ui, item_id, status.HTTP_403_FORBIDDEN, error=ui.t(str(e)))
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


class _BadForm(ValueError):
    """A form value the dashboard refuses before the review service sees it (message key)."""


class _NotYours(PermissionError):
    """The viewer's role may not take this step on this item (message key; 403)."""


def _may_settle(item: ReviewItem, viewer: Viewer) -> None:
    escalated = item.state == State.ESCALATED or (item.state == State.PENDING and item.round > 1)
    if not viewer.role.allows(Permission.DECIDE):
        raise _NotYours("review.read_only")
    if escalated and not viewer.role.allows(Permission.DECIDE_ESCALATED):
        raise _NotYours("review.needs_manager")


@router.post("/reviews/{item_id}/claim")
def claim(item_id: int, ui: SignedInUi, viewer: CsrfViewer) -> Response:
    def run(session: Session, item: ReviewItem) -> str:
        _may_settle(item, viewer)
        review.claim(session, item_id, viewer.actor, viewer.store_id)
        return f"/reviews/{item_id}"

    return _act(ui, item_id, run)


@router.post("/reviews/{item_id}/release")
def release(item_id: int, ui: SignedInUi, viewer: CsrfViewer) -> Response:
    def run(session: Session, item: ReviewItem) -> str:
        if not viewer.role.allows(Permission.DECIDE):
            raise _NotYours("review.read_only")
        review.release(session, item_id, viewer.actor, viewer.role.allows(Permission.RELEASE_ANY), viewer.store_id)
        return f"/reviews/{item_id}"

    return _act(ui, item_id, run)


@router.post("/reviews/{item_id}/decision")
def decide(
    item_id: int, ui: SignedInUi, viewer: CsrfViewer,
    decision: Annotated[str, Form()], reason: Annotated[str, Form(max_length=500)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def run(session: Session, item: ReviewItem) -> str:
        _may_settle(item, viewer)
        try:
            chosen = Decision(decision)
        except ValueError:
            raise _BadForm("err.not_found") from None
        code = reason.strip() or None
        text = note.strip() or None
        if chosen == Decision.DISMISS:
            if code not in DISMISS_REASONS:
                raise _BadForm("err.reason")
            if code == "other" and text is None:
                raise _BadForm("err.note_other")
        else:
            code = None
        if item.state in (State.PENDING, State.ESCALATED):
            review.claim(session, item_id, viewer.actor, viewer.store_id)  # one click: claim and decide
        done = review.decide(session, item_id, viewer.actor, chosen, code, text, viewer.store_id)
        return f"/queue?done={item_id}" if done.state in FINAL else f"/reviews/{item_id}"

    return _act(ui, item_id, run)

