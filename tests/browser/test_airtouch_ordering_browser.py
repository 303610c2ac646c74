"""Use case D end to end in Chromium: the kiosk page reads the air-touch bridge's pointer events (made
from a real hand's MediaPipe landmarks moved over the page's buttons), a push on "Coffee" and one on
"Place order" send the order, the first answer is lost on the way back, the page retries with the
same order id, and central holds exactly one order, marked as placed by air-touch. Mouse still works."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import numpy as np

from edge.usecases.airtouch.bridge import Bridge, PointerHub, drive
from edge.usecases.airtouch.config import AirTouchConfig
from edge.usecases.airtouch.geometry import INDEX_TIP, hand_px
from edge.usecases.airtouch.pointer import AirTouch

from .conftest import STORE, LiveCentral, shot

TRACE = Path(__file__).resolve().parents[1] / "data" / "airtouch" / "pointing_up.json"
SCREEN = (1280, 800)


def hand_at(hand: np.ndarray, cfg: AirTouchConfig, xy: tuple[float, float], distance_cm: float) -> np.ndarray:
    """The real hand scaled to the size of ``distance_cm`` with its fingertip over screen point ``xy``."""
    s = cfg.depth.model().size_at(distance_cm) / hand_px(hand)
    out = hand.copy()
    out[:, :2] = (hand[:, :2] - hand[INDEX_TIP, :2]) * s + np.array(cfg.homography().inverse().apply(*xy))
    return out


def push_on(hand: np.ndarray, cfg: AirTouchConfig, start: tuple[float, float], button: tuple[float, float], t0: float):  # noqa: ANN201
    """Frames: glide from ``start`` to ``button`` at 15 cm, push to 2 cm, come back to 15 cm."""
    steps = [(start[0] + (button[0] - start[0]) * k / 20, start[1] + (button[1] - start[1]) * k / 20, 15.0) for k in range(21)]
    steps += [(*button, d) for d in list(np.linspace(15, 2, 12)) + [2.0] * 4 + list(np.linspace(2, 15, 12)) + [15.0] * 6]
    return [(t0 + i / 30, hand_at(hand, cfg, (x, y), d)) for i, (x, y, d) in enumerate(steps)]


def centre(page, selector: str) -> tuple[float, float]:  # noqa: ANN001
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def orders(central: LiveCentral) -> list[dict]:
    r = httpx.get(f"{central.url}/api/v1/stores/{STORE}/orders", headers={"Authorization": f"Bearer {central.edge_key}"}, timeout=10)
    r.raise_for_status()
    return r.json()


def test_an_air_touch_order_arrives_exactly_once_despite_a_lost_answer(new_page, central: LiveCentral) -> None:  # noqa: ANN001
    from anshin.demo import free_port

    before = {o["order_id"] for o in orders(central)}
    hand = np.asarray(json.loads(TRACE.read_text())["frames"][0]["landmarks"])
    cfg = AirTouchConfig(screen=SCREEN)
    bridge = Bridge(PointerHub(), origin=central.url, port=free_port()).start()
    posts: list[dict] = []

    def lose_the_first_answer(route) -> None:  # noqa: ANN001
        posts.append(json.loads(route.request.post_data))
        if len(posts) == 1:
            route.fetch()  # central stores the order...
            route.abort("connectionreset")  # ...but its answer never reaches the page
        else:
            route.continue_()

    try:
        page = new_page(lang="en", width=SCREEN[0], height=SCREEN[1])
        page.route(re.compile(r".*/kiosk/[^/]+/orders$"), lose_the_first_answer)
        page.goto(f"/kiosk/{STORE}?airtouch={bridge.url}&kiosk=k1")
        deadline = time.monotonic() + 10
        while bridge.hub.clients() == 0:
            assert time.monotonic() < deadline, "the kiosk page did not connect to the air-touch bridge"
            time.sleep(0.05)
        coffee, place = centre(page, '.kiosk-item[data-sku="coffee"]'), centre(page, "#order-place")
        touch = AirTouch(cfg)
        frames = push_on(hand, cfg, (640, 700), coffee, 0.0)
        assert drive(touch, frames, bridge.hub) == 1
        page.locator("#basket-lines li").filter(has_text="Coffee × 1").wait_for()
        assert not page.locator("#airtouch-cursor").is_hidden()
        frames = push_on(hand, cfg, coffee, place, frames[-1][0] + 1 / 30)
        assert drive(touch, frames, bridge.hub) == 1
        page.locator("#order-status").filter(has_text="Your order number is").wait_for()
        shot(page, "airtouch-kiosk-order")
    finally:
        bridge.close()
    assert len(posts) == 2 and posts[0] == posts[1]  # the retry carried the same order id
    new = [o for o in orders(central) if o["order_id"] not in before]
    assert len(new) == 1
    assert new[0]["order_id"] == posts[0]["order_id"] and new[0]["source"] == "airtouch" and new[0]["lines"] == [["coffee", 1]]
    assert new[0]["number"] in page.locator("#order-status").inner_text()


def test_mouse_still_orders_and_staff_see_it(new_page, central: LiveCentral) -> None:  # noqa: ANN001
    from .conftest import sign_in

    before = {o["order_id"] for o in orders(central)}
    page = new_page(lang="ja", width=SCREEN[0], height=SCREEN[1])
    page.goto(f"/kiosk/{STORE}")
    page.locator('.kiosk-item[data-sku="bento"]').click()
    page.locator('.kiosk-item[data-sku="bento"]').click()
    page.locator("#order-place").click()
    page.locator("#order-status").filter(has_text="注文番号は").wait_for()
    new = [o for o in orders(central) if o["order_id"] not in before]
    assert len(new) == 1 and new[0]["source"] == "touch" and new[0]["lines"] == [["bento", 2]]
    staff = new_page(lang="ja")
    sign_in(staff, "sato", next_path="/orders")
    row = staff.locator(f'tr[data-order-id="{new[0]["order_id"]}"]')
    assert "お弁当 × 2" in row.inner_text() and "タッチ・マウス" in row.inner_text()
    shot(staff, "orders-staff-ja")
