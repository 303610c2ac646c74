"""Use case J end to end on real data: import, refresh, a purchase proposal staff approve through
the review queue (its units go on order), the insights page in both languages, plots and the PDF."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.central.db.session import Database
from services.central.settings import Settings
from services.central.usecases.insights.data import BREADBASKET, WALMART, retail_dir
from services.central.usecases.insights.forecasting import ForecastSettings
from services.central.usecases.insights.importing import import_file
from services.central.usecases.insights.service import InsightsSettings, latest_report, propose, refresh
from services.central.usecases.insights.tables import CatalogueItem, InventoryRow, PurchaseProposal

from .ui_builders import sign_in

STORE = "demo-store"
QUICK = InsightsSettings(
    sales=ForecastSettings(models=("snaive", "profile_4"), windows=2),
    items=ForecastSettings(season_length=7, freq="D", horizon=7, models=("snaive", "profile_7")),
    top_items=3, item_history_days=42, basket_days=60)


@pytest.fixture
def stocked(db: Database, settings: Settings) -> int:
    """The demo store with Walmart store 1's weekly sales and the bakery's till lines, a report and
    a proposal; returns the proposal id."""
    with db.unit_of_work() as s:
        import_file(s, retail_dir() / "Walmart_Store_sales.csv", WALMART.model_copy(update={"only": {"Store": "1"}}),
                    actor="test", store_id=STORE)
        import_file(s, retail_dir() / "BreadBasket_DMS.csv", BREADBASKET, actor="test", store_id=STORE)
        s.add(CatalogueItem(store_id=STORE, item="Coffee", unit_cost=1.2, pack_size=12, lead_time_days=2))
    with db.unit_of_work() as s:
        refresh(s, STORE, QUICK)
    with db.unit_of_work() as s:
        proposal = propose(s, STORE, settings, actor="test")
        assert proposal is not None
        return proposal.id


def test_an_approved_proposal_goes_on_order(client: TestClient, db: Database, stocked: int,
                                            auth: Callable[..., dict[str, str]]) -> None:
    with db.read_session() as s:
        proposal = s.get(PurchaseProposal, stocked)
        assert proposal is not None and proposal.state == "pending"
        lines = {line["item"]: line for line in proposal.lines}
    assert set(lines) == {"Bread", "Coffee", "Tea"}  # the three best sellers
    coffee = lines["Coffee"]
    assert coffee["pack_size"] == 12 and coffee["order_units"] % 12 == 0 and coffee["protection_days"] == 3
    assert coffee["order_up_to"] <= coffee["order_units"] < coffee["order_up_to"] + 12

    staff = auth("alice", "reviews:read", "reviews:write")
    items = client.get("/api/v1/reviews", params={"limit": 50}, headers=staff).json()["data"]
    (item,) = [i for i in items if i["event"]["type"] == "insights.purchase_proposal"]
    assert item["event"]["payload"]["units"] == sum(line["order_units"] for line in lines.values())
    assert client.post(f"/api/v1/reviews/{item['id']}/claim", headers=staff).status_code == 200
    done = client.post(f"/api/v1/reviews/{item['id']}/decision", headers=staff, json={"decision": "confirm"})
    assert done.status_code == 200 and done.json()["state"] == "confirmed"

    with db.read_session() as s:
        assert s.get(PurchaseProposal, stocked).state == "approved"  # type: ignore[union-attr]
        on_order = dict(s.execute(select(InventoryRow.item, InventoryRow.on_order)
                                  .where(InventoryRow.store_id == STORE)).all())
    assert on_order == {k: float(v["order_units"]) for k, v in lines.items()}


def test_a_dismissed_proposal_orders_nothing(client: TestClient, db: Database, stocked: int,
                                             auth: Callable[..., dict[str, str]]) -> None:
    staff = auth("bob", "reviews:read", "reviews:write")
    (item,) = client.get("/api/v1/reviews", headers=staff).json()["data"]
    client.post(f"/api/v1/reviews/{item['id']}/claim", headers=staff)
    r = client.post(f"/api/v1/reviews/{item['id']}/decision", headers=staff,
                    json={"decision": "dismiss", "reason": "false_alarm"})
    assert r.status_code == 200, r.text
    with db.read_session() as s:
        assert s.get(PurchaseProposal, stocked).state == "rejected"  # type: ignore[union-attr]
        assert s.scalars(select(InventoryRow)).all() == []


@pytest.mark.parametrize(("locale", "words"), [
    pytest.param("en", ["Sales forecast", "Purchase proposal", "Bought together", "waiting for approval",
                        "No visitor counts yet", "Month start: each of days 1-5"], id="en"),
    pytest.param("ja", ["売上予測", "発注提案", "同時購買", "承認待ち", "来店者数", "月初効果"], id="ja"),
])
def test_insights_page_shows_forecasts_proposal_and_rules(client: TestClient, db: Database, stocked: int,
                                                          locale: str, words: list[str]) -> None:
    sign_in(client, db, "mika", role="manager", locale=locale)
    page = client.get(f"/insights/{STORE}")
    assert page.status_code == 200
    for w in words:
        assert w in page.text, w
    with db.read_session() as s:
        report = latest_report(s, STORE)
        assert report is not None
        top = report.content["rules"][0]
    assert top["lift"] > 1.0 and f"<td>{', '.join(top['antecedent'])}</td><td>{', '.join(top['consequent'])}</td>" in page.text
    assert report.content["sales"]["forecast"][0]["ds"] in page.text  # the first forecast week
    plot = client.get(f"/insights/{STORE}/plots/forecast.png")
    assert plot.status_code == 200 and plot.content[:4] == b"\x89PNG"
    pdf = client.get(f"/insights/{STORE}/report.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-" and len(pdf.content) > 20_000


def test_a_store_bound_viewer_sees_only_its_store(client: TestClient, db: Database, stocked: int) -> None:
    sign_in(client, db, "kenji", role="staff", store="other-store")
    assert client.get(f"/insights/{STORE}").status_code == 404
    assert client.get(f"/insights/{STORE}/report.pdf").status_code == 404


def test_demo_preparation_shows_everything_once(db: Database, settings: Settings) -> None:
    from services.central.usecases.insights.demo import prepare

    prepare(db, settings, STORE)
    prepare(db, settings, STORE)  # a restart: nothing imported, computed or proposed twice
    with db.read_session() as s:
        report = latest_report(s, STORE)
        assert report is not None and report.id == 1
        assert len(s.scalars(select(PurchaseProposal)).all()) == 1
    content = report.content
    assert content["sales"]["available"] and len(content["sales"]["forecast"]) == 8
    assert content["items"]["available"] and any(o["order_units"] > 0 for o in content["orders"])
    assert content["rules"] and content["placements"] and content["staffing"]


def test_a_store_refresh_pools_its_shape_with_the_other_stores_as_a_chain_run_does(db: Database) -> None:
    from services.central.usecases.insights.forecasting import forecast
    from services.central.usecases.insights.importing import read_series

    with db.unit_of_work() as s:
        for store, other in ((STORE, "1"), ("store-two", "2")):
            import_file(s, retail_dir() / "Walmart_Store_sales.csv", WALMART.model_copy(update={"only": {"Store": other}}),
                        actor="test", store_id=store)
    with db.unit_of_work() as s:
        refresh(s, STORE, QUICK)
    with db.read_session() as s:
        report = latest_report(s, STORE)
        assert report is not None
        sales = report.content["sales"]
    chain = read_series(retail_dir() / "Walmart_Store_sales.csv", WALMART.model_copy(update={"series": "Store"}))
    chain_run = forecast(chain[chain["unique_id"].isin(["1", "2"])], QUICK.sales)
    expected = chain_run.table
    assert sales["pooled_with_stores"] == 1
    assert sales["month_start_effect"] == chain_run.month_start_effect != 0.0  # fitted on both stores, as a chain run
    assert [round(r["mean"], 2) for r in sales["forecast"]] == [
        round(v, 2) for v in expected[expected["unique_id"] == "1"]["mean"]]
    with db.unit_of_work() as s:
        alone = refresh(s, STORE, QUICK.model_copy(update={"pool_with_other_stores": False})).content["sales"]
    assert alone["pooled_with_stores"] == 0 and alone["forecast"] != sales["forecast"]
