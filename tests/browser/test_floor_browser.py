"""Use case B in Chromium: the customer route page (no sign-in) shows the floor map in crowding colours,
a route that bends around the crowd and a QR code that opens the same route; Japanese and English.
The staff floor page refreshes its heatmap live and shows "no readings" when comfort has none."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import cv2
import numpy as np
import pytest

from services.central.usecases.floor.plan import load_plan
from services.central.usecases.floor.store import set_plan
from services.contract import Event

from .conftest import STORE, LiveCentral, shot, sign_in, wait_until

pytestmark = pytest.mark.browser


def positions(points: list[list[float]], seconds_ago: float = 0.0) -> Event:
    at = datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)
    return Event(type="floor.positions", use_case="B", store_id=STORE, camera_id="aisle-cam", occurred_at=at,
                 payload={"people": len(points), "positions": points, "interval_s": 2.0})


MIDDLE_CROWD = [[6.0 + 0.7 * k, 7.7 + 0.4 * (k % 2)] for k in range(14)]  # along the middle aisle, x 6-15 m


@pytest.fixture(scope="module")
def floor(central: LiveCentral) -> LiveCentral:
    plan = load_plan("config/floors/demo-store.yaml").model_copy(update={"store_id": STORE})
    with central.app.state.db.unit_of_work() as session:  # type: ignore[attr-defined]
        set_plan(session, plan, actor="test")
    central.post_events(*[positions(MIDDLE_CROWD, s) for s in (6, 4, 2, 0)])
    return central


def test_customer_page_shows_the_crowd_a_route_around_it_and_a_qr_code(floor: LiveCentral, new_page: Callable[..., object]) -> None:
    page = new_page(lang="")
    page.goto(f"/floor-guide/{STORE}?lang=en")  # no sign-in
    assert page.locator("#floor-map").is_visible()
    assert page.locator(".heat-cell").count() >= 5  # the crowd in colour
    assert page.locator(".heat-high, .heat-mid").count() >= 1
    suggested = page.locator("#route-suggested")
    assert suggested.is_visible() and page.locator(".route-shortest").count() == 1  # the route differs from the shortest
    # Produce -> frozen food: the shortest way runs along the crowded middle aisle (y 8 m = 240 px); the suggestion does not.
    points = [tuple(map(float, p.split(","))) for p in suggested.get_attribute("points").split()]
    on_middle_aisle = [x for x, y in points if y == 240.0]
    assert on_middle_aisle and set(on_middle_aisle) <= {90.0}  # only its west end (x 3 m), never the crowded stretch
    assert "Produce" in page.locator("h2").first.inner_text() and "Frozen food" in page.locator("h2").first.inner_text()

    qr = page.locator("#route-qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    image = cv2.imdecode(np.frombuffer(qr.screenshot(), np.uint8), cv2.IMREAD_COLOR)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    link = urlparse(text)
    assert link.path == f"/floor-guide/{STORE}" and parse_qs(link.query) == {"start": ["produce"], "end": ["frozen"], "lang": ["en"]}
    shot(page, "floor-guide-en")

    # The QR code's address on a "phone": same route, Japanese on request.
    phone = new_page(lang="", width=390, height=844)
    phone.goto(text.replace("lang=en", "lang=ja"))
    assert "青果" in phone.locator("h2").first.inner_text() and "冷凍食品" in phone.locator("h2").first.inner_text()
    assert phone.locator("#route-suggested").get_attribute("points") == suggested.get_attribute("points")
    assert phone.get_by_role("button", name="経路を表示").is_visible()
    shot(phone, "floor-guide-ja-phone")


def test_customer_picks_another_destination(floor: LiveCentral, new_page: Callable[..., object]) -> None:
    page = new_page(lang="en")
    page.goto(f"/floor-guide/{STORE}")
    page.get_by_label("From").select_option("entrance")
    page.get_by_label("To").select_option("checkout-1")
    page.get_by_role("button", name="Show route").click()
    page.wait_for_url(re.compile(r"start=entrance&end=checkout-1"))
    assert "Entrance → Checkout 1" in page.locator("h2").first.inner_text()
    assert page.locator(".route-start").count() == 1 and page.locator(".route-end").count() == 1


def test_staff_floor_page_refreshes_the_heatmap_and_has_no_comfort_readings(floor: LiveCentral,
                                                                           new_page: Callable[..., object]) -> None:
    page = new_page(lang="en")
    sign_in(page, "sato", next_path=f"/stores/{STORE}/floor")
    assert page.locator("#floor-map").is_visible() and page.locator("#route-suggested").is_visible()
    page.locator("#comfort-body.empty").wait_for()  # the comfort API gives this page nothing: said so, no error
    assert page.locator("#comfort-body").inner_text() == "No comfort readings."
    before = page.locator(".heat-cell").count()
    floor.post_events(positions([[20.5 + 0.3 * k, 2.0 + 0.3 * k] for k in range(6)]))  # people appear at the back right
    # the page polls its map every 5 s
    wait_until(page, lambda: page.locator(".heat-cell").count() > before, "the heatmap did not refresh", timeout_s=15)
    page.get_by_role("link", name=re.compile("Customer page")).click()
    assert page.locator("#route-qr").is_visible()
    shot(page, "floor-staff-to-guide")
