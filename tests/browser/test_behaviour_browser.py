"""Use case H in Chromium: the review panel plays the notice's evidence clip (WebM from the edge's own
encoder), the rules page draws its charts; Japanese and English."""

from __future__ import annotations

import cv2
from playwright.sync_api import expect
from sqlalchemy import select

from edge.evidence import encode_webm
from edge.paths import media_dir
from services.central.db.tables import ReviewItem
from services.contract import Box, Event, Evidence, Explanation
from services.contract.blobs import bundle

from .conftest import STORE, LiveCentral, shot, sign_in, wait_until


def pets_bundle() -> bytes:
    cap = cv2.VideoCapture(str(media_dir() / "pets2009_vtest_480x360.mp4"))
    frames = [cap.read()[1] for _ in range(25)]
    cap.release()
    ok, jpeg = cv2.imencode(".jpg", frames[15])
    return bundle(jpeg.tobytes(), encode_webm(frames[::2], 5.0))


def test_the_review_panel_plays_the_clip_and_the_rules_page_charts_it(new_page, central: LiveCentral) -> None:
    from datetime import datetime, timezone

    ref = central.upload_snapshot(pets_bundle(), "pets-aisle")
    notice = Event(
        type="behaviour.restricted_zone", use_case="H", store_id=STORE, camera_id="pets-aisle",
        occurred_at=datetime.now(timezone.utc), severity="warning", review_required=True,
        payload={"zone": "crossing", "track_id": 12, "predicted": True, "eta_s": 1.4, "path": [[0.7, 0.5], [0.74, 0.45]]},
        explanation=Explanation(rule="restricted_zone", summary="Track 12 is heading into restricted zone 'crossing' (predicted in 1.4 s).",
                                thresholds={"predict_s": 1.5}, measured={"eta_s": 1.4}),
        evidence=Evidence(snapshot_ref=ref, frame_size=(480, 360), boxes=[Box(xyxy=(300, 80, 330, 160), label="person", score=0.8, track_id=12)]),
    )
    central.post_events(notice)
    with central.app.state.db.read_session() as s:  # type: ignore[attr-defined]
        item_id = s.scalar(select(ReviewItem.id).where(ReviewItem.event_id == notice.event_id))
    page = new_page()
    sign_in(page, "sato", next_path=f"/reviews/{item_id}")
    video = page.locator("#evidence-clip video")
    expect(video).to_be_visible()
    wait_until(page, lambda: page.evaluate("document.querySelector('#evidence-clip video').readyState >= 2"),
               "the evidence clip did not load")
    size = page.evaluate("(() => { const v = document.querySelector('#evidence-clip video');"
                         " return [v.videoWidth, v.videoHeight, v.duration, v.error && v.error.code]; })()")
    assert size[:2] == [480, 360] and size[2] > 2.0 and size[3] is None  # Chromium decodes the WebM: 13 frames at 5 fps
    expect(page.locator("select[name=reason] option[value='behaviour_restricted_zone__did_not_enter']")).to_have_count(1)
    expect(page.locator("select[name=reason] option[value='behaviour_loitering__waiting']")).to_have_count(0)
    shot(page, "behaviour-01-review-clip")

    ja = new_page(lang="ja")
    sign_in(ja, "takahashi", next_path="/behaviour")
    expect(ja.get_by_role("heading", name="行動ルール：誤報の多いルール")).to_be_visible()
    expect(ja.locator("svg.rate-chart")).to_have_count(1)
    shot(ja, "behaviour-02-rules-ja")
