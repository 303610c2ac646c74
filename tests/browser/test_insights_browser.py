"""Use case J in a real browser: the insights page of a store with the shared retail CSVs imported
(as the demo does) shows the forecast plot, the purchase proposal and basket rules, in English and
Japanese; the nav leads there and the PDF link answers a PDF."""

from __future__ import annotations

import re

import httpx
import pytest

from .conftest import STORE, LiveCentral, shot, sign_in, wait_until


@pytest.fixture(scope="module")
def prepared(central: LiveCentral) -> None:
    from services.central.usecases.insights.demo import prepare

    prepare(central.app.state.db, central.settings, STORE)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("lang", "heading", "orders"), [
    pytest.param("en", "Sales forecast", "Purchase proposal", id="en"),
    pytest.param("ja", "売上予測", "発注提案", id="ja"),
])
def test_insights_page_shows_forecast_proposal_and_rules(new_page, central: LiveCentral, prepared: None,  # type: ignore[no-untyped-def]
                                                         lang: str, heading: str, orders: str) -> None:
    page = new_page(lang=lang, width=1280, height=900)
    sign_in(page, "takahashi")
    page.get_by_role("link", name=re.compile("Insights|販売分析")).click()
    page.get_by_role("link", name=STORE).click()
    page.wait_for_url(re.compile(f"/insights/{STORE}$"))
    assert page.get_by_role("heading", name=heading).is_visible()
    assert page.get_by_role("heading", name=orders).is_visible()
    plot = page.locator("#sales img")
    plot.wait_for()
    wait_until(page, lambda: plot.evaluate("img => img.complete && img.naturalWidth > 0"), "the forecast plot did not load")
    assert page.locator("#orders tbody tr").count() >= 3  # one line per best seller with a non-zero order
    assert page.locator("#baskets tbody tr").count() >= 5
    shot(page, f"insights-{lang}")
    pdf = page.get_by_role("link", name=re.compile("PDF")).get_attribute("href")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    r = httpx.get(central.url + str(pdf), cookies=cookies, timeout=30)
    assert r.status_code == 200 and r.content[:5] == b"%PDF-"
