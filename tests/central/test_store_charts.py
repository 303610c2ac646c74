"""The store page charts people per zone and comfort values (with their target bands) over the last
hours, lists alerts and notices instead of every event, and reads in English and Japanese."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from services.central.db.session import Database

from .builders import STORE, crowding_alert, minutes_ago, occupancy, wire
from .test_comfort import comfort
from .ui_builders import sign_in


def seed(client: TestClient, edge: dict[str, str]) -> None:
    events = [occupancy(zone="aisle", count=c, capacity=10, at=minutes_ago(100 - 5 * k)) for k, c in enumerate([2, 4, 8, 12, 9, 5])]
    events += [occupancy(zone="till", count=1, capacity=3, at=minutes_ago(30))]
    events += [comfort(value=v, status="high" if v > 1000 else "ok", at=minutes_ago(60 - 10 * k))
               for k, v in enumerate([850.0, 950.0, 1080.0, 1150.0])]
    events += [comfort(zone="plaza", quantity="lux", value=None, status="untrusted", at=minutes_ago(3))]
    events += [comfort("comfort.notice", value=1150.0, status="high", out_s=600.0, at=minutes_ago(25)), crowding_alert()]
    r = client.post("/api/v1/events", json=wire(*events), headers=edge)
    assert r.status_code == 200, r.text


def test_store_page_charts_zones_and_comfort_with_target_bands(client: TestClient, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    seed(client, edge)
    sign_in(client, db, "sato")
    page = client.get(f"/stores/{STORE}").text
    charts = client.get(f"/stores/{STORE}/charts?hours=3").text
    for html in (page, charts):
        svgs = re.findall(r'<svg viewBox="0 0 360 120"[^>]*aria-label="([^"]+)"', html)
        assert "aisle-1 · aisle" in svgs and "aisle-1 · till" in svgs
        assert "floor · CO₂ (too high)" in svgs
        aisle = html[html.index('aria-label="aisle-1 · aisle"'):]
        path = re.search(r'<path class="chart-line" d="([^"]+)"', aisle).group(1)  # type: ignore[union-attr]
        assert len(re.findall(r"[ML]", path)) == 6                      # six readings, one per 1-minute bucket
        assert 'class="chart-band"' in aisle[:aisle.index("</svg>")]     # up to capacity, shaded
        co2 = html[html.index('aria-label="floor · CO₂ (too high)"'):]
        assert 'class="chart-band"' in co2[:co2.index("</svg>")]        # the CO₂ target, shaded
        assert "Target ≤ 1000 ppm" in co2
    live = client.get(f"/stores/{STORE}/live").text
    assert "Alerts and notices" in live and "Comfort notice" in live and "Zone over capacity" in live
    assert "Zone occupancy" not in live and "Comfort reading" not in live   # periodic readings are charted, not listed


def test_store_page_charts_read_in_japanese(client: TestClient, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    seed(client, edge)
    sign_in(client, db, "tanaka", locale="ja")
    page = client.get(f"/stores/{STORE}").text
    assert "直近 3 時間の推移" in page and "快適性" in page and "CO₂濃度" in page and "網掛け：目標範囲" in page
    assert "アラートとお知らせ" in page


def test_an_untrusted_light_reading_leaves_a_gap_not_a_zero(client: TestClient, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    seed(client, edge)
    sign_in(client, db, "sato")
    charts = client.get(f"/stores/{STORE}/charts").text
    lux = charts[charts.index('aria-label="plaza · Light (not readable (camera exposure changed))"'):]
    assert re.search(r'<path class="chart-line" d=""', lux[:lux.index("</svg>")])
