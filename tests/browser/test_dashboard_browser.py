"""The staff dashboard in a real browser (Debian chromium via Playwright): sign-in, the live
queue, confirm, dismiss, the two-person rule, overdue highlighting, the audit view, the store view.

Alerts are real: a PETS 2009 frame, people found by the project's YOLOv8n detector, the zone
alert made by the occupancy analyzer, the picture blurred by the edge's evidence code and
uploaded through the snapshot API, the event posted through the ingest API.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta, timezone
from functools import cache

import cv2
import numpy as np
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from edge.config import ZoneConfig
from edge.evidence import evidence_jpeg
from edge.paths import media_dir
from edge.usecases import FrameContext
from edge.usecases.occupancy import OccupancyAnalyzerConfig
from edge.usecases.occupancy.analyzer import OccupancyAnalyzer
from services.central.db.tables import AuditEntry, ReviewItem
from services.contract import Event, Explanation, ModelRef

from .conftest import STORE, LiveCentral, shot, sign_in

pytestmark = pytest.mark.browser

PLAZA = ZoneConfig(polygon=[(0.0, 0.2), (1.0, 0.2), (1.0, 1.0), (0.0, 1.0)])
WATCH_PLAZA = {"plaza": {"capacity": 2}}


@cache
def pets_frame() -> tuple[np.ndarray, np.ndarray, np.ndarray, str, str]:
    """Frame 60 of the PETS 2009 video, the people YOLOv8n finds in it, and the model's name/version."""
    from edge.detectors import create_detector
    from edge.detectors.config import OnnxDetectorConfig

    video = cv2.VideoCapture(str(media_dir() / "pets2009_vtest_480x360.mp4"))
    video.set(cv2.CAP_PROP_POS_FRAMES, 60)
    ok, frame = video.read()
    video.release()
    assert ok, "cannot read the PETS 2009 video from the shared media folder"
    detector = create_detector(OnnxDetectorConfig())
    found = detector.detect(frame)
    assert len(found) >= 4, f"expected the detector to find several walkers, found {len(found)}"
    tracked = found.with_tracker_ids(np.arange(1, len(found) + 1, dtype=np.int64))
    return frame, tracked.xyxy, tracked, getattr(detector, "model_name", ""), getattr(detector, "model_version", "")


def crowd_alert(central: LiveCentral, camera: str = "plaza-cam", ago_s: float = 0.0) -> Event:
    """A real zone.overcrowded alert with its blurred evidence picture uploaded to central."""
    frame, xyxy, tracked, model, version = pets_frame()
    at = datetime.now(timezone.utc) - timedelta(seconds=ago_s)
    ctx = FrameContext(STORE, camera, at, (frame.shape[1], frame.shape[0]), frame, model, version, "standard")
    [alert] = [e for e in OccupancyAnalyzer(OccupancyAnalyzerConfig(zones=WATCH_PLAZA, min_frames=1), {"plaza": PLAZA}).update(tracked, ctx)
               if e.review_required]
    picture = evidence_jpeg(frame, "standard", xyxy)
    assert picture is not None
    ref = central.upload_snapshot(picture.jpeg, camera)
    return alert.model_copy(update={"evidence": alert.evidence.model_copy(update={"snapshot_ref": ref})})


def fever_alert(ago_s: float = 0.0, celsius: float = 38.3) -> Event:
    """Use case A, two reviewers under the default policy (no picture: it stays on the edge)."""
    return Event(
        type="entrance.fever_suspected", use_case="A", store_id=STORE, camera_id="entrance",
        occurred_at=datetime.now(timezone.utc) - timedelta(seconds=ago_s), severity="warning", review_required=True,
        payload={"core_c": celsius, "raw_c": 35.1, "corrected_c": 35.5, "ambient_c": 22.0, "blackbody_measured_c": 34.7,
                 "blackbody_expected_c": 35.0, "blackbody_drift_c": -0.3, "interocular_px": 62.0, "frames": 5,
                 "face_track": 3, "canthus_coupling": 0.95, "skin_emissivity": 0.98, "action": "confirm with a clinical thermometer",
                 "models": {"face_detector": "yunet@2023mar", "mask_classifier": "anshin_mask_head@1"}},
        explanation=Explanation(rule="body_temperature_over_threshold", summary=f"Estimated {celsius} °C",
                                thresholds={"fever_threshold_c": 37.5}, measured={"core_c": celsius},
                                model=ModelRef(name="thermal_correction", version="v1")),
    )


def item_of(central: LiveCentral, event: Event) -> ReviewItem:
    with central.app.state.db.read_session() as s:  # type: ignore[attr-defined]
        return s.scalar(select(ReviewItem).where(ReviewItem.event_id == event.event_id))


def wait_live(page) -> None:  # noqa: ANN001
    """Wait until the page's event stream is connected (so a change now reaches it)."""
    expect(page.locator("#live-status.online")).to_be_visible(timeout=10_000)


def test_sign_in_and_a_wrong_password(new_page, central: LiveCentral) -> None:
    page = new_page(lang="")  # no language chosen: the store default, Japanese
    page.goto("/audit")
    expect(page).to_have_url(re.compile(r"/login\?next=/audit"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.get_by_label("ユーザー名").fill("sato")
    page.get_by_label("パスワード").fill("not-the-password")
    page.get_by_role("button", name="サインイン").click()
    expect(page.get_by_role("alert")).to_have_text(
        "ユーザー名またはパスワードが違います。失敗が続くとアカウントはロックされます。解除は管理者に依頼してください。")
    expect(page).to_have_url(re.compile(r"/login"))
    shot(page, "01-login-wrong-password-ja")
    page.get_by_role("link", name="English").click()
    page.get_by_label("User name").fill("sato")
    page.get_by_label("Password").fill("browser-test-pass-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/queue$"))
    expect(page.get_by_text("Signed in as sato (staff)")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto("/queue")
    expect(page).to_have_url(re.compile(r"/login"))


def test_an_alert_posted_through_the_api_appears_in_the_open_queue_without_reload(new_page, central: LiveCentral) -> None:
    page = new_page()
    sign_in(page, "sato")
    wait_live(page)
    page.evaluate("window.__notReloaded = true")
    alert = crowd_alert(central, camera="live-cam")
    central.post_events(alert)
    item = item_of(central, alert)
    row = page.locator(f"tr[data-item-id='{item.id}']")
    expect(row).to_be_visible(timeout=8_000)
    expect(row).to_contain_text("Zone over capacity")
    expect(row).to_contain_text("new")
    assert page.evaluate("window.__notReloaded") is True, "the page reloaded instead of updating in place"
    shot(page, "02-queue-alert-arrived")


def test_confirm(new_page, central: LiveCentral) -> None:
    alert = crowd_alert(central)
    central.post_events(alert)
    item = item_of(central, alert)
    page = new_page()
    sign_in(page, "sato", next_path=f"/reviews/{item.id}")
    picture = page.locator("figure img")
    expect(picture).to_be_visible()
    assert page.evaluate("document.querySelector('figure img').naturalWidth") == 480  # the picture loaded
    expect(page.locator("figure svg rect.box")).to_have_count(len(alert.evidence.boxes))
    expect(page.get_by_text("More people stayed in the zone than its capacity allows")).to_be_visible()
    expect(page.get_by_text("Faces are blurred.")).to_be_visible()
    expect(page.get_by_role("table", name="Thresholds")).to_contain_text(re.compile(r"Capacity \(people\)\s*2"))
    shot(page, "03-review-item-evidence")
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(rf"/queue\?done={item.id}"))
    expect(page.get_by_role("status").filter(has_text=f"#{item.id}")).to_be_visible()
    assert item_of(central, alert).state == "confirmed"


def tab_to(page, matches: str, limit: int = 80) -> None:  # noqa: ANN001
    """Press Tab until the focused element satisfies the JS predicate ``matches`` (on ``el``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => {matches})(document.activeElement)"):
            return
    raise AssertionError(f"no focusable element matching {matches} within {limit} tabs")


def test_the_keyboard_alone_signs_in_finds_an_item_and_decides_it(new_page, central: LiveCentral) -> None:
    alert = crowd_alert(central)
    central.post_events(alert)
    item = item_of(central, alert)
    page = new_page()
    page.goto("/login")
    expect(page.get_by_label("User name")).to_be_focused()  # the name field has focus on arrival
    page.keyboard.type("suzuki")
    page.keyboard.press("Tab")
    page.keyboard.type("browser-test-pass-1")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/queue$"))
    tab_to(page, f"el.getAttribute('href') === '/reviews/{item.id}'")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused control must show where the keyboard is"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/reviews/{item.id}$"))
    tab_to(page, "el.tagName === 'BUTTON' && el.textContent.trim() === 'Confirm'")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/queue\?done={item.id}"))
    assert item_of(central, alert).state == "confirmed"


def test_dismiss_with_a_reason(new_page, central: LiveCentral) -> None:
    alert = crowd_alert(central)
    central.post_events(alert)
    item = item_of(central, alert)
    page = new_page()
    sign_in(page, "suzuki", next_path=f"/reviews/{item.id}")
    page.get_by_role("button", name="Dismiss").click()  # no reason chosen: the browser refuses to send
    expect(page).to_have_url(re.compile(rf"/reviews/{item.id}$"))
    page.get_by_label("Reason").select_option(label="People who belong together (family, group)")
    page.get_by_label("Details (required for “other”)").fill("a family of four walking together")
    shot(page, "04-dismiss-with-reason")
    page.get_by_role("button", name="Dismiss").click()
    expect(page).to_have_url(re.compile(rf"/queue\?done={item.id}"))
    done = item_of(central, alert)
    assert done.state == "dismissed"
    assert (done.decisions[-1].reason, done.decisions[-1].note) == ("people_together", "a family of four walking together")
    with central.app.state.db.read_session() as s:  # type: ignore[attr-defined]
        entry = s.scalar(select(AuditEntry).where(AuditEntry.subject == f"review_item:{item.id}",
                                                  AuditEntry.action == "review.decision"))
    assert entry.details["reason_code"] == "people_together" and entry.actor.startswith("user:")
    assert "family" not in str(entry.details)  # free text stays out of the chain (only its digest)


def test_the_two_person_rule_refuses_the_same_user_twice(new_page, central: LiveCentral) -> None:
    alert = fever_alert()
    central.post_events(alert)
    item = item_of(central, alert)
    live = new_page()
    sign_in(live, "sato", next_path=f"/reviews/{item.id}")
    # A second tab of the same person, opened before the first decision (no script: it stays as loaded).
    stale = new_page(js=False, storage_state=live.context.storage_state())
    stale.goto(f"/reviews/{item.id}")
    expect(live.get_by_text("Two-person rule: two different people must decide this item.")).to_be_visible()
    live.get_by_role("button", name="Confirm").click()
    expect(live.get_by_text("You made the first decision. The second must come from someone else.")).to_be_visible()
    expect(live.get_by_role("button", name="Confirm")).to_have_count(0)
    stale.get_by_role("button", name="Confirm").click()
    expect(stale.get_by_role("alert")).to_contain_text("Refused by the two-person rule")
    shot(stale, "05-two-person-rule-refused")
    assert item_of(central, alert).state == "claimed" and len(item_of(central, alert).decisions) == 1

    other = new_page()
    sign_in(other, "suzuki", next_path=f"/reviews/{item.id}")
    expect(other.get_by_text("Waiting for a second person: sato decided “confirmed”.")).to_be_visible()
    other.get_by_role("button", name="Confirm").click()
    expect(other).to_have_url(re.compile(r"/queue\?done="))
    assert item_of(central, alert).state == "confirmed"


def test_overdue_items_stand_out(new_page, central: LiveCentral) -> None:
    late = fever_alert(ago_s=600)  # due 300 s after it happened
    fresh = crowd_alert(central)
    central.post_events(late, fresh)
    page = new_page(width=820, height=1180)  # a tablet held upright
    sign_in(page, "takahashi")
    late_row = page.locator(f"tr[data-item-id='{item_of(central, late).id}']")
    fresh_row = page.locator(f"tr[data-item-id='{item_of(central, fresh).id}']")
    expect(late_row).to_have_class(re.compile(r"\boverdue\b"))
    expect(late_row).to_contain_text(re.compile(r"overdue by \d+ min"))
    expect(fresh_row).not_to_have_class(re.compile(r"\boverdue\b"))
    background = "el => getComputedStyle(el).backgroundColor"
    assert late_row.evaluate(background) != fresh_row.evaluate(background)
    expect(page.locator("[data-count=overdue]")).not_to_have_text("0")
    shot(page, "06-queue-overdue-tablet")


def test_live_store_view_shows_the_picture_zones_and_occupancy(new_page, central: LiveCentral) -> None:
    frame, xyxy, tracked, model, version = pets_frame()
    picture = evidence_jpeg(frame, "standard", xyxy)
    central.upload_snapshot(picture.jpeg, "plaza-cam", kind="live")
    ctx = FrameContext(STORE, "plaza-cam", datetime.now(timezone.utc), (480, 360), frame, model, version, "standard")
    report = next(e for e in OccupancyAnalyzer(OccupancyAnalyzerConfig(zones=WATCH_PLAZA), {"plaza": PLAZA}).update(tracked, ctx)
                  if e.type == "zone.occupancy")
    central.post_events(report)
    page = new_page(lang="ja")
    sign_in(page, "sato", next_path=f"/stores/{STORE}")
    camera = page.locator("article[data-camera='plaza-cam']")
    expect(camera.locator("img")).to_be_visible()
    expect(camera.locator("svg polygon.zone")).to_have_count(1)
    expect(camera.locator("tr[data-zone='plaza']")).to_contain_text(f"{report.payload['count']} / 2")
    expect(page.get_by_role("heading", name="アラートとお知らせ（直近24時間）")).to_be_visible()  # the list became alerts + charts
    shot(page, "07-store-view-ja")


def test_auditor_sees_a_tampered_chain_reported(new_page, central: LiveCentral) -> None:
    staff = new_page()
    sign_in(staff, "sato")
    assert staff.goto("/audit").status == 403
    expect(staff.get_by_role("link", name="Audit log")).to_have_count(0)

    page = new_page()
    sign_in(page, "ito", next_path="/audit")
    page.get_by_role("button", name="Verify chain").click()
    expect(page.locator("[data-verify=intact]")).to_contain_text("Chain intact")
    with central.app.state.db.read_session() as s:  # type: ignore[attr-defined]
        seq = s.scalar(select(AuditEntry.seq).where(AuditEntry.action == "review.decision").order_by(AuditEntry.seq))
    with sqlite3.connect(central.settings.data_dir / "central.db") as db:  # someone edits history behind the app's back
        db.execute("UPDATE audit_log SET details = json_set(details, '$.decision', 'dismiss') WHERE seq = ?", (seq,))
    page.get_by_role("button", name="Verify chain").click()
    broken = page.locator("[data-verify=broken]")
    expect(broken).to_contain_text(f"Chain BROKEN at entry #{seq}")
    expect(broken).to_contain_text("hash mismatch")
    broken.get_by_role("link", name=f"Show entry #{seq}").click()
    expect(page.locator(f"tr#seq-{seq}")).to_have_class(re.compile("broken"))
    shot(page, "08-audit-tampered")
