"""The exit gate worker on a real video against a real central (SQLite and PostgreSQL) and the fake
payment provider: a member's photo walks across the gate camera, then a stranger's. Each passage is
one exit; the member is charged once (also when central was unreachable at first, and when the same
video is replayed: the exit ids repeat); the stranger leaves no row and no log line.

The video is built from ``media/face_recognition_examples`` photos (the member enrols with two other
photos of himself), written with the MJPG codec as a camera's stream would arrive."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from edge.paths import media_dir
from edge.sources.video import Backoff, VideoSource
from edge.usecases.checkout.client import CheckoutClient
from edge.usecases.checkout.faces import load_rgb, locate
from edge.usecases.checkout.gate import ExitGate, ExitSender, exit_id_for
from edge.usecases.checkout.liveness import GATE_FACE_PX
from services.central.db.session import Database
from services.central.db.tables import Base
from services.central.usecases.checkout.crypto import MASTER_KEY_ENV, encode_master_key, new_master_key
from services.central.usecases.checkout.fake_provider import RunningProvider, running_provider
from services.central.usecases.checkout.payment import PaymentAdapter
from services.central.usecases.checkout.tables import CheckoutCharge

EXAMPLES = media_dir() / "face_recognition_examples"
MEMBER_EXIT = EXAMPLES / "obama3.jpg"
STRANGER = EXAMPLES / "knn_examples" / "train" / "kit_harington" / "john1.jpeg"
STORE = "s1"
FPS = 10

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="shared data not present")


def walking_tile(path: Path, side: int = GATE_FACE_PX) -> np.ndarray:
    """The photo's face and its surroundings, scaled so the face is ``side`` pixels wide (BGR)."""
    import cv2

    rgb = load_rgb(str(path))
    top, right, bottom, left = locate(rgb)[0]
    k = side / (right - left)
    small = cv2.resize(rgb, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    cy, cx = int((top + bottom) / 2 * k), int((left + right) / 2 * k)
    half = int(side * 1.3)
    padded = cv2.copyMakeBorder(small, half, half, half, half, cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(padded[cy:cy + 2 * half, cx:cx + 2 * half, ::-1])


def gate_video(out: Path, people: list[Path], steps: int = 10, gap: int = 12, size: tuple[int, int] = (640, 480)) -> Path:
    """Each person crosses the frame left to right in ``steps`` frames, then ``gap`` empty frames."""
    import cv2

    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), FPS, size)
    background = np.full((size[1], size[0], 3), 110, np.uint8)
    for person in people:
        tile = walking_tile(person)
        th, tw = tile.shape[:2]
        for i in range(steps):
            frame = background.copy()
            x, y = 20 + i * (size[0] - tw - 40) // (steps - 1), (size[1] - th) // 2
            frame[y:y + th, x:x + tw] = tile
            writer.write(frame)
        for _ in range(gap):
            writer.write(background)
    writer.release()
    return out


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gate_video(tmp_path_factory.mktemp("gate") / "gate.avi", [MEMBER_EXIT, STRANGER])


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningProvider]:
    monkeypatch.setenv(MASTER_KEY_ENV, encode_master_key(new_master_key()))
    with running_provider() as p:
        monkeypatch.setenv("ANSHIN_CHECKOUT_PROVIDER_URL", p.url)
        monkeypatch.setenv("ANSHIN_CHECKOUT_PROVIDER_KEY", p.secret_key)
        yield p


class Unreachable:
    """Central behind a flaky network: the first exit attempts fail (a dropped connection, then a 503)."""

    def __init__(self, client: TestClient, failures: int = 2) -> None:
        self.client, self.failures, self.attempts = client, failures, 0

    def post(self, path: str, **kw: Any) -> httpx.Response:
        if path.endswith("/exits"):
            self.attempts += 1
            if self.attempts == 1 and self.failures >= 1:
                raise httpx.ConnectError("connection refused")
            if self.attempts <= self.failures:
                return httpx.Response(503, json={"detail": "restarting"})
        return self.client.post(path, **kw)


def rows(db: Database) -> dict[str, int]:
    with db.read_session() as session:
        return {t.name: session.execute(select(func.count()).select_from(t)).scalar_one() for t in Base.metadata.sorted_tables}


def run_gate(video: Path, client: CheckoutClient, sleeps: list[float]) -> tuple[ExitGate, ExitSender, list[str]]:
    """The gate over the whole video; the exit ids it submitted, in order."""
    sender = ExitSender(client, "exit-1", backoff=Backoff(0.5, 4.0, 0), sleep=sleeps.append)
    sent: list[str] = []
    submit = sender.submit
    sender.submit = lambda exit_id, seen: (sent.append(exit_id), submit(exit_id, seen))  # type: ignore[method-assign]
    gate = ExitGate(sender, exit_id=exit_id_for("exit-1", str(video), True))
    with VideoSource(video, name="exit-1", origin=datetime(2026, 11, 30, tzinfo=timezone.utc)) as source:
        gate.run(source.frames())
    assert sender.close(drain_timeout_s=30) == 0
    return gate, sender, sent


def test_one_exit_per_passage_member_charged_once_stranger_leaves_nothing(
    video: Path, client: TestClient, db: Database, auth: Callable[..., dict[str, str]], provider: RunningProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from services.central.stores import set_profile

    with db.unit_of_work() as session:
        set_profile(session, STORE, "identified", "JP", actor="test")
    key = auth("gate", "events:write", store=STORE)["Authorization"].removeprefix("Bearer ")
    kiosk = CheckoutClient("", key, STORE, http=client)
    token = PaymentAdapter(provider.url, provider.secret_key).tokenize("4242424242424242")
    enrolled = kiosk.enrol([load_rgb(str(EXAMPLES / "obama.jpg")), load_rgb(str(EXAMPLES / "obama2.jpg"))], consent=True,
                           consent_version="2026-11", language="ja", channel="kiosk", payment_token=token)
    assert enrolled.status_code == 201, enrolled.text
    member = enrolled.json()["member_id"]
    assert kiosk.add_items(member, [{"sku": "tea", "qty": 2, "unit_yen": 150}]).status_code == 200
    before = rows(db)

    sleeps: list[float] = []
    with caplog.at_level(logging.DEBUG):
        gate, sender, sent = run_gate(video, CheckoutClient("", key, STORE, http=Unreachable(client)), sleeps)

    assert gate.summary.passages == 2 and gate.summary.no_embedding == 0  # two people crossed: two exits, not 20
    assert sender.stats.outcomes == {"charged": 1, "ignored": 1}
    assert sender.stats.retries == 2 and sleeps == [0.5, 1.0]  # dropped connection and 503: retried with backoff
    assert [c["amount"] for c in provider.ledger.charges.values()] == [300]
    with db.read_session() as session:
        charged = session.scalars(select(CheckoutCharge)).all()
    assert [(c.member_id, c.amount_yen) for c in charged] == [(member, 300)]
    after = rows(db)
    # The member's exit added its charge (and the charge's event and audit entries); the stranger's nothing.
    assert {t: after[t] - before[t] for t in after if after[t] != before[t]}.get("checkout_charges") == 1
    member_exit = charged[0].exit_id
    (stranger_exit,) = [e for e in sent if e != member_exit]
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert member_exit in text and stranger_exit not in text  # a stranger's passage leaves no log line
    assert not re.search(r"(-?0\.\d{3,}, ){8}", text)  # and no log line carries an embedding

    # The same stream replayed (a restarted gate re-reading a recording): the same exit ids, answered once.
    _, sender2, sent2 = run_gate(video, CheckoutClient("", key, STORE, http=client), [])
    assert sent2 == sent and sender2.stats.outcomes == {"charged": 1, "ignored": 1}
    assert len(provider.ledger.charges) == 1
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(CheckoutCharge)) == 1

