"""Use case H on central: notices with an evidence clip become review items whose panel plays the
clip (blurred as uploaded, pixelated for a viewer who may not see an unblurred clip), dismissal
reasons per rule, and the page of alert and dismissal rates with the manager notice. ja/en.

Clips are real: frames of the PETS video encoded by the edge's own clip encoder.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cache

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from edge.evidence import encode_webm
from edge.paths import media_dir
from services.central.db.session import Database
from services.central.db.tables import AuditEntry, ReviewItem
from services.central.snapshots.clips import decode_clip
from services.central.stores import set_profile
from services.contract import Box, Event, Evidence, Explanation
from services.contract.blobs import bundle

from .builders import STORE, now, wire
from .ui_builders import post_form, sign_in


@cache
def pets_clip() -> tuple[bytes, bytes, list[np.ndarray]]:
    """(JPEG of the event frame, WebM of 10 frames around it, those frames)."""
    cap = cv2.VideoCapture(str(media_dir() / "pets2009_vtest_480x360.mp4"))
    frames = []
    while len(frames) < 10:
        ok, image = cap.read()
        assert ok
        frames.append(image)
    cap.release()
    ok, jpeg = cv2.imencode(".jpg", frames[5])
    return jpeg.tobytes(), encode_webm(frames, 5.0), frames


def upload(client: TestClient, headers: dict[str, str], data: bytes, anonymised: bool = True):  # noqa: ANN201
    return client.post("/api/v1/snapshots", content=data, headers={**headers, "Content-Type": "image/jpeg"},
                       params={"store_id": STORE, "camera_id": "pets-aisle", "kind": "evidence",
                               "anonymised": str(anonymised).lower()})


def loitering(ref: str | None = None, at: datetime | None = None) -> Event:
    return Event(
        type="behaviour.loitering", use_case="H", store_id=STORE, camera_id="pets-aisle", occurred_at=at or now(),
        severity="notice", review_required=True,
        payload={"zone": "plaza", "track_id": 23, "dwell_s": 361.0, "threshold_s": 300.0, "path": [[0.5, 0.6], [0.52, 0.61]]},
        explanation=Explanation(rule="loitering", summary="Track 23 stayed in zone 'plaza' for 6 min 1 s (threshold 5 min).",
                                thresholds={"dwell_s": 300.0}, measured={"dwell_s": 361.0}),
        evidence=Evidence(snapshot_ref=ref, frame_size=(480, 360),
                          boxes=[Box(xyxy=(200, 100, 240, 220), label="person", score=0.8, track_id=23)]),
    )


@pytest.fixture
def writer(auth) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return auth("edge-pets", "events:write", "events:read", store=STORE)


def test_a_notice_with_a_clip_is_a_review_item_whose_panel_plays_it(client: TestClient, db: Database, writer, edge) -> None:  # type: ignore[no-untyped-def]
    jpeg, webm, frames = pets_clip()
    r = upload(client, writer, bundle(jpeg, webm))
    assert r.status_code == 200, r.text
    notice = loitering(r.json()["snapshot_ref"])
    assert client.post("/api/v1/events", json=wire(notice), headers=edge).status_code == 200
    sign_in(client, db, "sato")
    with db.read_session() as s:
        item = s.scalar(select(ReviewItem).where(ReviewItem.event_id == notice.event_id))
    page = client.get(f"/reviews/{item.id}").text
    assert f'hx-get="/ui/reviews/{item.id}/clip"' in page
    assert "stayed in zone" in page and "suspect" not in page.lower()
    fragment = client.get(f"/ui/reviews/{item.id}/clip").text
    assert f'<video src="/ui/evidence/{notice.event_id}/clip.webm"' in fragment and "blurred" in fragment
    served = client.get(f"/ui/evidence/{notice.event_id}/clip.webm")
    assert served.status_code == 200 and served.headers["content-type"] == "video/webm" and served.content == webm
    got, fps = decode_clip(served.content)
    assert len(got) == len(frames) and fps == 5.0
    # The picture route serves the picture alone, not the clip after it.
    picture = client.get(f"/ui/evidence/{notice.event_id}.jpg")
    assert picture.status_code == 200 and picture.content.endswith(b"\xff\xd9") and len(picture.content) < len(jpeg) + 100
    # Per-rule dismissal reasons: a loitering item offers loitering's, not the restricted zone's.
    assert 'value="behaviour_loitering__waiting"' in page and "behaviour_restricted_zone__authorised" not in page
    # Japanese.
    client.get("/lang/ja")
    ja = client.get(f"/reviews/{item.id}").text
    assert "エリアでの長時間の滞在" in ja and "待ち合わせ・休憩" in ja
    assert "通知前後の動画" in client.get(f"/ui/reviews/{item.id}/clip").text


def test_an_item_without_a_clip_has_an_empty_slot_and_other_use_cases_lack_h_reasons(client: TestClient, db: Database, writer, edge) -> None:  # type: ignore[no-untyped-def]
    jpeg, _, _ = pets_clip()
    notice = loitering(upload(client, writer, jpeg).json()["snapshot_ref"])
    assert client.post("/api/v1/events", json=wire(notice), headers=edge).status_code == 200
    from .builders import crowding_alert

    crowd = crowding_alert()
    assert client.post("/api/v1/events", json=wire(crowd), headers=edge).status_code == 200
    sign_in(client, db, "sato")
    with db.read_session() as s:
        ids = {e: s.scalar(select(ReviewItem.id).where(ReviewItem.event_id == e)) for e in (notice.event_id, crowd.event_id)}
    assert client.get(f"/ui/reviews/{ids[notice.event_id]}/clip").text == ""
    assert client.get(f"/ui/evidence/{notice.event_id}/clip.webm").status_code == 404
    assert "behaviour_" not in client.get(f"/reviews/{ids[crowd.event_id]}").text


def test_a_broken_clip_is_refused_and_an_unblurred_clip_is_pixelated_for_staff(client: TestClient, db: Database, writer, edge) -> None:  # type: ignore[no-untyped-def]
    jpeg, webm, frames = pets_clip()
    r = upload(client, writer, bundle(jpeg, webm[:200]))
    assert r.status_code == 422 and "clip" in r.json()["detail"]
    with db.unit_of_work() as s:
        set_profile(s, STORE, "identified", "JP")
    notice = loitering(upload(client, writer, bundle(jpeg, webm), anonymised=False).json()["snapshot_ref"])
    assert client.post("/api/v1/events", json=wire(notice), headers=edge).status_code == 200
    sign_in(client, db, "sato", "staff")
    served = client.get(f"/ui/evidence/{notice.event_id}/clip.webm")
    assert served.status_code == 200 and served.content != webm
    pixelated, _ = decode_clip(served.content)

    def detail(image: np.ndarray) -> float:
        return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())

    assert len(pixelated) == len(frames) and detail(pixelated[0]) < 0.3 * detail(frames[0])
    with db.read_session() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "snapshot.view_faces")).all() == []


def test_the_rates_page_shows_each_rule_and_tells_the_manager_when_dismissals_last(client: TestClient, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    today = datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
    loiter = [loitering(at=min(today - timedelta(days=d), now())) for d in range(7) for _ in range(3)]
    restricted = [Event(type="behaviour.restricted_zone", use_case="H", store_id=STORE, camera_id="pets-aisle",
                        occurred_at=now(), severity="warning", review_required=True,
                        payload={"zone": "crossing", "track_id": 4, "predicted": False},
                        explanation=Explanation(rule="restricted_zone", summary="Track 4 entered restricted zone 'crossing'."))]
    assert client.post("/api/v1/events", json=wire(*loiter, *restricted), headers=edge).status_code == 200
    # Staff dismiss every loitering notice; the items are dated on the days they came in.
    with db.unit_of_work() as s:
        for k, item in enumerate(s.scalars(select(ReviewItem).where(ReviewItem.event_type == "behaviour.loitering")).all()):
            item.created_at = today - timedelta(days=k // 3)
            item.state = "dismissed"
    sign_in(client, db, "tanaka", "manager")
    page = client.get("/behaviour").text
    assert page.count('class="card rule-rates"') == 2 and page.count('<svg class="rate-chart"') == 2
    assert "Notice for the store manager" in page and "Long stay in a zone" in page
    assert page.count('class="rate-dot"') == 7  # a dismissal rate on each of the 7 days with decisions
    # One day with confirmations breaks "stayed above the level for a week".
    with db.unit_of_work() as s:
        for item in s.scalars(select(ReviewItem).where(ReviewItem.event_type == "behaviour.loitering")).all()[:3]:
            item.state = "confirmed"
    assert "Notice for the store manager" not in client.get("/behaviour").text
    client.get("/lang/ja")
    assert "行動ルール：誤報の多いルール" in client.get("/behaviour").text


def test_staff_dismiss_a_notice_with_its_rule_reason(client: TestClient, db: Database, writer, edge) -> None:  # type: ignore[no-untyped-def]
    notice = loitering()
    assert client.post("/api/v1/events", json=wire(notice), headers=edge).status_code == 200
    csrf = sign_in(client, db, "sato")
    with db.read_session() as s:
        item_id = s.scalar(select(ReviewItem.id).where(ReviewItem.event_id == notice.event_id))
    assert post_form(client, f"/reviews/{item_id}/claim", csrf).status_code in (200, 303)
    r = post_form(client, f"/reviews/{item_id}/decision", csrf, decision="dismiss", reason="behaviour_loitering__waiting")
    assert r.status_code in (200, 303), r.text
    with db.read_session() as s:
        assert s.get(ReviewItem, item_id).state == "dismissed"
