"""Evidence and live pictures: the upload API's checks, content addressing, pruning, and what
each viewer sees (faces blurred unless role and store profile allow otherwise).

Pictures are real photos from the shared media folder; person boxes come from the project's
YOLOv8n detector, as an edge worker would send them.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from edge.paths import media_dir
from services.central.db.session import Database
from services.central.db.tables import AuditEntry, SnapshotRow
from services.central.settings import Settings
from services.central.stores import set_profile
from services.contract import Box, Event, Evidence, Explanation

from .builders import STORE, now, wire
from .ui_builders import sign_in


@cache
def bus() -> tuple[bytes, np.ndarray, list[list[float]]]:
    """bus.jpg as uploaded (JPEG bytes), its pixels, and the people YOLOv8n finds in it."""
    from edge.detectors import create_detector
    from edge.detectors.config import OnnxDetectorConfig

    data = (media_dir() / "bus.jpg").read_bytes()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    people = create_detector(OnnxDetectorConfig()).detect(image)
    assert len(people) >= 3, "expected the detector to find the people in bus.jpg"
    return data, image, [list(map(float, b)) for b in people.xyxy]


def upload(client: TestClient, headers: dict[str, str], data: bytes, store: str = STORE, camera: str = "entrance",
           kind: str = "evidence", anonymised: bool = True, content_type: str = "image/jpeg"):  # noqa: ANN201
    return client.post("/api/v1/snapshots", content=data, headers={**headers, "Content-Type": content_type},
                       params={"store_id": store, "camera_id": camera, "kind": kind, "anonymised": str(anonymised).lower()})


def alert_with(ref: str, boxes: list[list[float]], size: tuple[int, int]) -> Event:
    return Event(
        type="zone.overcrowded", use_case="F", store_id=STORE, camera_id="entrance", occurred_at=now(),
        severity="warning", review_required=True, payload={"zone": "door", "count": len(boxes), "capacity": 2},
        explanation=Explanation(rule="occupancy_over_capacity", thresholds={"capacity": 2.0}, measured={"count": float(len(boxes))}),
        evidence=Evidence(snapshot_ref=ref, frame_size=size, boxes=[Box(xyxy=tuple(b), label="person", score=0.8) for b in boxes]),
    )


def detail(image: np.ndarray, box: list[float] | None = None) -> float:
    """Variance of the Laplacian (sharpness) of the head region of ``box``, or of the whole picture."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if box is not None:
        x1, y1, x2, y2 = (int(v) for v in box)
        grey = grey[y1 : y1 + int(0.22 * (y2 - y1)), x1:x2]
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def decoded(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


@pytest.fixture
def writer(auth) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return auth("edge-tokyo", "events:write", "events:read", store=STORE)


# ---------------------------------------------------------------------------------- upload


def test_an_upload_is_stored_once_by_its_digest(client: TestClient, db: Database, settings: Settings, writer) -> None:  # type: ignore[no-untyped-def]
    data, image, _ = bus()
    first, again = upload(client, writer, data), upload(client, writer, data)
    digest = hashlib.sha256(data).hexdigest()
    assert first.status_code == 200 and first.json() == {"snapshot_ref": f"sha256:{digest}", "width": image.shape[1],
                                                          "height": image.shape[0]}
    assert again.json() == first.json()
    assert (settings.data_dir / "snapshots" / f"{digest}.jpg").read_bytes() == data
    with db.read_session() as s:
        assert s.scalar(select(func.count()).select_from(SnapshotRow)) == 1


@pytest.mark.parametrize(("body", "content_type", "status", "message"), [
    pytest.param(b"%PDF-1.4", "image/jpeg", 422, "not a JPEG", id="not a jpeg"),
    pytest.param(None, "image/png", 415, "Content-Type must be image/jpeg", id="wrong content type"),
    pytest.param("truncated", "image/jpeg", 422, "could not be decoded", id="truncated jpeg"),
    pytest.param("huge", "image/jpeg", 413, "limit", id="over the size limit"),
])
def test_uploads_central_refuses(make_settings, auth, body, content_type, status, message) -> None:  # type: ignore[no-untyped-def]
    from services.central.api.app import create_app

    data = bus()[0]
    payload = {None: data, "truncated": data[:400], "huge": data + b"\0" * 4096}.get(body, body)
    app = create_app(make_settings(snapshot_max_bytes=len(data) + 1024))
    try:
        with TestClient(app) as client:
            key = auth_key(app.state.db)
            r = upload(client, key, payload, content_type=content_type)
            assert r.status_code == status and message in r.json()["detail"]
            assert not (app.state.settings.data_dir / "snapshots").exists() or not any((app.state.settings.data_dir / "snapshots").iterdir())
    finally:
        app.state.db.dispose()


def auth_key(db: Database) -> dict[str, str]:
    from services.central.auth import create_key

    with db.unit_of_work() as s:
        return {"Authorization": f"Bearer {create_key(s, 'edge', ['events:write'], STORE).secret}"}


def test_uploads_need_the_write_scope_and_the_right_store(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    data = bus()[0]
    assert upload(client, {}, data).status_code == 401
    assert upload(client, auth("reader", "events:read"), data).status_code == 403
    other = upload(client, auth("edge-osaka", "events:write", store="osaka-03"), data)
    assert other.status_code == 403 and "bound to store 'osaka-03'" in other.json()["detail"]


def test_a_minimal_store_keeps_no_pictures(client: TestClient, db: Database, settings: Settings, writer) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        set_profile(s, STORE, "minimal", "JP")
    r = upload(client, writer, bus()[0])
    assert r.status_code == 403 and "privacy profile 'minimal'" in r.json()["detail"]
    assert not (settings.data_dir / "snapshots").exists()


def test_live_pictures_are_pruned_to_the_newest_but_evidence_stays(client: TestClient, db: Database, settings: Settings, writer) -> None:  # type: ignore[no-untyped-def]
    _, image, _ = bus()
    versions = [cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, q])[1].tobytes() for q in (50, 60, 70, 80, 90)]
    evidence = upload(client, writer, versions[0]).json()["snapshot_ref"]  # the same bytes are also evidence
    refs = [upload(client, writer, v, kind="live").json()["snapshot_ref"] for v in versions]
    with db.read_session() as s:
        live = s.scalars(select(SnapshotRow.sha256).where(SnapshotRow.kind == "live")).all()
    assert sorted(live) == sorted(r.split(":")[1] for r in refs[-3:])  # live_snapshots_kept = 3
    files = {p.stem for p in (settings.data_dir / "snapshots").glob("*.jpg")}
    assert files == set(live) | {evidence.split(":")[1]}


# ---------------------------------------------------------------------------------- viewing


def test_staff_see_heads_blurred_even_if_the_edge_did_not(client: TestClient, db: Database, edge, writer) -> None:  # type: ignore[no-untyped-def]
    data, image, boxes = bus()
    ref = upload(client, writer, data, anonymised=True).json()["snapshot_ref"]  # an edge that claims it blurred
    alert = alert_with(ref, boxes, (image.shape[1], image.shape[0]))
    assert client.post("/api/v1/events", json=wire(alert), headers=edge).status_code == 200
    sign_in(client, db, "sato")
    r = client.get(f"/ui/evidence/{alert.event_id}.jpg")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    served = decoded(r.content)
    for box in boxes:
        assert detail(served, box) < 0.2 * detail(image, box), box
    assert r.headers["cache-control"].startswith("private")


@pytest.mark.parametrize(("role", "sees_faces"), [
    pytest.param("staff", False, id="staff"),
    pytest.param("auditor", False, id="auditor"),
    pytest.param("manager", True, id="manager"),
])
def test_an_identified_store_shows_faces_only_to_roles_allowed_and_audits_it(
    client: TestClient, db: Database, edge, writer, role: str, sees_faces: bool  # type: ignore[no-untyped-def]
) -> None:
    with db.unit_of_work() as s:
        set_profile(s, STORE, "identified", "JP")
    data, image, boxes = bus()
    ref = upload(client, writer, data, anonymised=False).json()["snapshot_ref"]
    alert = alert_with(ref, boxes, (image.shape[1], image.shape[0]))
    assert client.post("/api/v1/events", json=wire(alert), headers=edge).status_code == 200
    sign_in(client, db, "viewer", role)
    served = client.get(f"/ui/evidence/{alert.event_id}.jpg").content
    with db.read_session() as s:
        views = s.scalars(select(AuditEntry).where(AuditEntry.action == "snapshot.view_faces")).all()
    if sees_faces:
        assert served == data
        assert [(v.actor, v.details["event_id"]) for v in views] == [("user:1", str(alert.event_id))]
        assert "Faces are shown" in client.get("/reviews/1").text
    else:
        assert detail(decoded(served)) < 0.1 * detail(image)  # the whole picture is pixelated
        assert views == []


def test_integrators_read_pictures_blurred_and_only_their_stores(client: TestClient, auth, writer) -> None:  # type: ignore[no-untyped-def]
    data, image, _ = bus()
    sha = upload(client, writer, data, anonymised=False).json()["snapshot_ref"].split(":")[1]
    assert client.get(f"/api/v1/snapshots/{sha}").status_code == 401
    r = client.get(f"/api/v1/snapshots/sha256:{sha}", headers=auth("hq", "events:read"))
    assert r.status_code == 200 and detail(decoded(r.content)) < 0.1 * detail(image)
    assert client.get(f"/api/v1/snapshots/{sha}", headers=auth("osaka", "events:read", store="osaka-03")).status_code == 404


def test_the_review_page_draws_each_box_over_the_picture(client: TestClient, db: Database, edge, writer) -> None:  # type: ignore[no-untyped-def]
    data, image, boxes = bus()
    alert = alert_with(upload(client, writer, data).json()["snapshot_ref"], boxes, (image.shape[1], image.shape[0]))
    assert client.post("/api/v1/events", json=wire(alert), headers=edge).status_code == 200
    sign_in(client, db, "sato")
    page = client.get("/reviews/1").text
    assert f'<img src="/ui/evidence/{alert.event_id}.jpg"' in page
    assert page.count('<rect class="box box-person"') == len(boxes)
    assert f'viewBox="0 0 {image.shape[1]} {image.shape[0]}"' in page


def test_a_picture_without_a_file_is_a_clear_404(client: TestClient, db: Database, settings: Settings, edge, writer) -> None:  # type: ignore[no-untyped-def]
    data, image, boxes = bus()
    ref = upload(client, writer, data).json()["snapshot_ref"]
    alert = alert_with(ref, boxes, (image.shape[1], image.shape[0]))
    client.post("/api/v1/events", json=wire(alert), headers=edge)
    Path(settings.data_dir / "snapshots" / f"{ref.split(':')[1]}.jpg").unlink()  # a retention purge ran
    sign_in(client, db, "sato")
    r = client.get(f"/ui/evidence/{alert.event_id}.jpg")
    assert r.status_code == 404 and "purged" in r.json()["detail"]
