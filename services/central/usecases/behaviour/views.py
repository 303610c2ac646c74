"""H's dashboard: which rules mislead (alert and dismissal rates per rule, manager notice), and the
evidence clip of a review item, played in its review panel.

The clip routes are generic (any event whose picture carries a clip: see
:mod:`services.central.snapshots.clips`); they live here because H is the use case that asks for
clips, and the panel asks for them by review item.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import UUID

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response
from sqlalchemy import select

from services.central import audit
from services.central.api.deps import DatabaseDep, SettingsDep
from services.central.api.schemas.common import MAX_DB_INT
from services.central.dashboard.access import Reader
from services.central.dashboard.web import SignedInUi
from services.central.db.tables import ReviewItem, SnapshotRow
from services.central.reads.events import get_event
from services.central.review import service as review
from services.central.snapshots import parse_ref
from services.central.snapshots.clips import ClipError, clip_of, viewable_clip
from services.central.snapshots.service import blob_store, find
from services.central.stores import get_profile
from services.central.usecases.behaviour.stats import DISMISSAL_NOTICE_LEVEL, chart, daily_rates, lasting_dismissals
from services.central.users.roles import may_see_faces
from services.contract import UseCase

router = APIRouter(include_in_schema=False)

DAYS = 28


@router.get("/behaviour")
def rule_rates_page(ui: SignedInUi) -> Response:
    """Per rule: alerts per day and dismissal rate over the last 28 days; the manager notice."""
    assert ui.viewer is not None
    now = datetime.now(timezone.utc)
    query = select(ReviewItem.event_type, ReviewItem.created_at, ReviewItem.state).where(
        ReviewItem.use_case == UseCase.H.value, ReviewItem.created_at >= now - timedelta(days=DAYS))
    if ui.viewer.store_id is not None:
        query = query.where(ReviewItem.store_id == ui.viewer.store_id)
    with ui.db.read_session() as session:
        rows = [(t, c if c.tzinfo else c.replace(tzinfo=timezone.utc), s) for t, c, s in session.execute(query).all()]
    today = now.date()
    daily = daily_rates(rows, today, DAYS)
    level = DISMISSAL_NOTICE_LEVEL
    rules = [
        {"type": t, "chart": chart(days, level), "alerts": sum(d.alerts for d in days),
         "confirmed": sum(d.confirmed for d in days), "dismissed": sum(d.dismissed for d in days),
         "rate": (lambda c, d: round(d / (c + d), 3) if c + d else None)(sum(d.confirmed for d in days), sum(d.dismissed for d in days)),
         "first_day": days[0].day, "last_day": days[-1].day}
        for t, days in daily.items()
    ]
    return ui.page("behaviour.html", rules=rules, notices=lasting_dismissals(daily, level, today),
                   level_pct=round(level * 100), days=DAYS)


# ---------------------------------------------------------------------------- evidence clips


def _clip_row(db: DatabaseDep, event_id: UUID, store_id: str | None) -> tuple[SnapshotRow, str] | None:
    with db.read_session() as session:
        event = get_event(session, event_id)
        if event is None or (store_id is not None and event.store_id != store_id):
            return None
        sha = parse_ref((event.evidence or {}).get("snapshot_ref"))
        row = find(session, sha) if sha else None
        if row is None or row.store_id != event.store_id:
            return None
        return row, event.store_id


@router.get("/ui/reviews/{item_id}/clip")
def review_clip(item_id: int, ui: SignedInUi, db: DatabaseDep, settings: SettingsDep) -> Response:
    """The review panel's clip player (HTML fragment); empty when the item's evidence has no clip."""
    assert ui.viewer is not None
    if not 0 < item_id <= MAX_DB_INT:
        return Response("", media_type="text/html")
    with ui.db.read_session() as session:
        try:
            item = review.get(session, item_id, ui.viewer.store_id)
        except review.ReviewNotFound:
            return Response("", media_type="text/html")
        event_id = item.event_id
        profile = get_profile(session, item.store_id, settings)
    found = _clip_row(db, event_id, ui.viewer.store_id)
    data = blob_store(settings.data_dir).read(found[0].sha256) if found else None
    if found is None or data is None or clip_of(data) is None:
        return Response("", media_type="text/html")
    row = found[0]
    faces = not row.anonymised and may_see_faces(ui.viewer.role, profile.privacy_profile)
    return ui.page("_evidence_clip.html", event_id=event_id, anonymised=row.anonymised, faces_shown=faces)


@router.get("/ui/evidence/{event_id}/clip.webm")
def evidence_clip(event_id: str, viewer: Reader, db: DatabaseDep, settings: SettingsDep) -> Response:
    """The event's evidence clip (WebM), blurred or pixelated as the viewer may see it; seeing faces is audited."""
    try:
        uid = UUID(event_id)
    except ValueError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no event {event_id!r}") from None
    found = _clip_row(db, uid, viewer.store_id)
    data = blob_store(settings.data_dir).read(found[0].sha256) if found else None
    clip = clip_of(data) if data is not None else None
    if found is None or clip is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no clip for event {event_id}")
    row, store_id = found
    with db.read_session() as session:
        profile = get_profile(session, store_id, settings)
    faces = not row.anonymised and may_see_faces(viewer.role, profile.privacy_profile)
    if faces:  # seeing faces is a privacy-relevant act: who looked at which clip, for which event
        with db.unit_of_work() as session:
            audit.append(session, viewer.actor, "snapshot.view_faces", f"snapshot:{row.sha256}",
                         {"user_id": viewer.user_id, "event_id": event_id, "store_id": store_id, "clip": True},
                         at=datetime.now(timezone.utc))
    try:
        body = viewable_clip(clip, row.anonymised, show_faces=faces)
    except ClipError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"clip for event {event_id} cannot be shown: {exc}") from None
    return Response(body, media_type="video/webm",
                    headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"})
