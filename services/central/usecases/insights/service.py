"""A store's insights, computed from its imported data and stored as one report (JSON).

``refresh`` reads the store's sales and POS lines, forecasts sales (weekly) and item demand
(daily), turns the item forecasts into order lines, mines basket rules and placements, and sets
transactions against visitors per hour (F's ``line.crossings`` at entrances, where there are any)
for conversion and staffing. Pages and PDFs read the stored report: no request fits a model.

``propose`` turns the latest report's order lines into a purchase proposal: a proposal row and an
``insights.purchase_proposal`` event whose review item is the approval; ``on_decided`` marks the
proposal approved (its units go on order in the back-room inventory) or rejected.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.central.db.tables import EventRow, ReviewItem
from services.central.settings import Settings
from services.central.usecases.insights import baskets as basket_rules
from services.central.usecases.insights.forecasting import ForecastSettings, cut_history, forecast
from services.central.usecases.insights.purchasing import order_line
from services.central.usecases.insights.tables import (
    CatalogueItem,
    InsightsReport,
    InventoryRow,
    PurchaseProposal,
    SalesRow,
    TransactionLine,
)
from services.contract import Event, Explanation, Severity, UseCase
from services.shared.strict import Strict

Progress = Callable[[str], None]
PROPOSAL_TYPE = "insights.purchase_proposal"
#: The "device" central names as the source of its own proposals (events need a camera id).
SOURCE = "insights"


class InsightsSettings(Strict):
    """What a refresh computes, and with which settings (defaults: weekly store sales, daily items)."""

    sales: ForecastSettings = ForecastSettings()
    # Shape pooling and the interval width were measured on weekly store sales only
    # (docs/usecases/insights.md): items keep their own shapes and the backtest's full error width.
    items: ForecastSettings = ForecastSettings(season_length=7, freq="D", horizon=7, windows=2,
                                               models=("snaive", "ets", "profile_7"), combine="choose",
                                               profile_pooling=0.0, interval_width=1.0)
    pool_with_other_stores: bool = Field(
        default=True, description="weekly sales: pool the seasonal shapes (profiles, MSTL) with the other stores' "
        "stored sales, as a chain-wide run does (docs/usecases/insights.md, Shape pooling)")
    item_history_days: int = Field(default=84, ge=14, le=730, description="days of item demand to forecast from")
    top_items: int = Field(default=10, ge=1, le=500, description="items forecast and ordered (by volume)")
    service_level: float = Field(default=0.95, ge=0.5, lt=1.0)
    review_days: int = Field(default=1, ge=1, le=60, description="days until the next order (review period)")
    lead_time_days: int = Field(default=2, ge=0, le=120, description="supplier lead time when the catalogue has none")
    basket_days: int = Field(default=365, ge=1, le=3650, description="days of baskets mined for rules")
    min_support: float = Field(default=0.01, gt=0.0, le=1.0)
    min_confidence: float = Field(default=0.1, gt=0.0, le=1.0)
    transactions_per_staff_hour: float = Field(default=20.0, gt=0.0, description="checkouts one person handles an hour")


def load_sales(session: Session, store_id: str) -> pd.DataFrame:
    """unique_id (series), ds, y of the store's sales rows."""
    rows = session.execute(select(SalesRow.series, SalesRow.period, SalesRow.value)
                           .where(SalesRow.store_id == store_id).order_by(SalesRow.series, SalesRow.period)).all()
    return pd.DataFrame({"unique_id": [r[0] for r in rows], "ds": pd.to_datetime([r[1] for r in rows]),
                         "y": [float(r[2]) for r in rows]})


def load_other_stores_sales(session: Session, store_id: str, series: Iterable[str]) -> pd.DataFrame:
    """unique_id (``<store>/<series>``), ds, y of the other stores' sales rows of the same ``series``
    names: the peers a store's forecast pools its seasonal shape with."""
    rows = session.execute(select(SalesRow.store_id, SalesRow.series, SalesRow.period, SalesRow.value)
                           .where(SalesRow.store_id != store_id, SalesRow.series.in_(list(series)))
                           .order_by(SalesRow.store_id, SalesRow.series, SalesRow.period)).all()
    return pd.DataFrame({"unique_id": [f"{r[0]}/{r[1]}" for r in rows], "ds": pd.to_datetime([r[2] for r in rows]),
                         "y": [float(r[3]) for r in rows]})


def load_lines(session: Session, store_id: str, since: datetime | None = None) -> pd.DataFrame:
    """transaction_id, item, at, quantity of the store's POS lines (since ``since``)."""
    q = select(TransactionLine.transaction_id, TransactionLine.item, TransactionLine.at, TransactionLine.quantity
               ).where(TransactionLine.store_id == store_id)
    if since is not None:
        q = q.where(TransactionLine.at >= since)
    rows = session.execute(q).all()
    return pd.DataFrame(rows, columns=["transaction_id", "item", "at", "quantity"])


def daily_demand(lines: pd.DataFrame, top: int) -> pd.DataFrame:
    """Daily units of the ``top`` items by volume, zero on days without a sale.

    >>> at = pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-03"], utc=True)
    >>> daily_demand(pd.DataFrame({"transaction_id": ["1", "1", "2"], "item": ["tea", "cake", "tea"],
    ...                            "at": at, "quantity": [1.0, 1.0, 1.0]}), top=1)["y"].tolist()
    [1.0, 0.0, 1.0]
    """
    if lines.empty:
        return pd.DataFrame(columns=["unique_id", "ds", "y"])
    day = pd.to_datetime(lines["at"], utc=True).dt.tz_localize(None).dt.normalize()
    volume = lines.groupby("item")["quantity"].sum().sort_values(ascending=False, kind="stable")
    keep = sorted(volume.index[:top])
    days = pd.date_range(day.min(), day.max(), freq="D")
    frame = lines.assign(ds=day)[lambda d: d["item"].isin(keep)].groupby(["item", "ds"])["quantity"].sum()
    full = frame.reindex(pd.MultiIndex.from_product([keep, days], names=["item", "ds"]), fill_value=0.0)
    return full.reset_index().rename(columns={"item": "unique_id", "quantity": "y"})


def visitors_per_hour(session: Session, store_id: str, start: datetime, end: datetime) -> dict[datetime, int]:
    """Visitors counted at the store's entrance lines (``line.crossings`` with ``visitors``), per hour."""
    rows = session.execute(select(EventRow.occurred_at, EventRow.payload).where(
        EventRow.store_id == store_id, EventRow.type == "line.crossings",
        EventRow.occurred_at >= start, EventRow.occurred_at < end)).all()
    out: dict[datetime, int] = {}
    for at, payload in rows:
        if not isinstance(payload, dict) or not payload.get("visitors", True):
            continue
        hour = at.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
        out[hour] = out.get(hour, 0) + int(payload.get("in_count", 0))
    return out


def conversion(lines: pd.DataFrame, visitors: dict[datetime, int]) -> list[dict[str, Any]]:
    """Per hour of the last day with sales: transactions, visitors and their ratio (None without counts).

    >>> at = pd.to_datetime(["2024-01-01 10:05", "2024-01-01 10:40", "2024-01-01 11:00"], utc=True)
    >>> lines = pd.DataFrame({"transaction_id": ["1", "2", "3"], "item": "tea", "at": at, "quantity": 1.0})
    >>> [(r["hour"][11:16], r["transactions"], r["rate"]) for r in conversion(lines, {at[0].floor("h").to_pydatetime(): 8})]
    [('10:00', 2, 0.25), ('11:00', 1, None)]
    """
    if lines.empty:
        return []
    at = pd.to_datetime(lines["at"], utc=True)
    last_day = at.dt.normalize().max()
    tx = lines.assign(hour=at.dt.floor("h"))[at.dt.normalize() == last_day].groupby("hour")["transaction_id"].nunique()
    out = []
    for hour, n in tx.items():
        v = visitors.get(hour.to_pydatetime())
        out.append({"hour": hour.isoformat(), "transactions": int(n), "visitors": v,
                    "rate": round(n / v, 4) if v else None})
    return out


def staffing(lines: pd.DataFrame, day_forecast: float | None, per_staff_hour: float) -> list[dict[str, Any]]:
    """Staff per hour of the next day: the forecast day's transactions spread over the hours like
    the last four weeks' average day, divided by what one person handles an hour (at least one).

    >>> at = pd.to_datetime(["2024-01-01 09:10", "2024-01-01 10:10", "2024-01-01 10:20"], utc=True)
    >>> lines = pd.DataFrame({"transaction_id": ["1", "2", "3"], "item": "tea", "at": at, "quantity": 1.0})
    >>> [(r["hour"], r["expected_transactions"], r["staff"]) for r in staffing(lines, 60.0, 20.0)]
    [(9, 20.0, 1), (10, 40.0, 2)]
    """
    if lines.empty or not day_forecast:
        return []
    at = pd.to_datetime(lines["at"], utc=True)
    recent = lines[at >= at.max() - pd.Timedelta(days=28)].assign(hour=at.dt.hour)
    share = recent.groupby("hour")["transaction_id"].nunique()
    share = share / share.sum()
    return [{"hour": int(h), "expected_transactions": round(float(s) * day_forecast, 1),
             "staff": max(1, math.ceil(float(s) * day_forecast / per_staff_hour))} for h, s in share.items()]


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
            for r in out.to_dict(orient="records")]


def _sales_part(history: pd.DataFrame, settings: ForecastSettings, progress: Progress | None,
                peers: pd.DataFrame | None = None) -> dict[str, Any]:
    if history.empty or history.groupby("unique_id").size().max() < settings.season_length + 2 * settings.horizon:
        return {"available": False}
    fc = forecast(history, settings, progress=progress, peers=peers)
    # How the same method did on the last horizon: forecast from before it, against what happened
    # (the peers are cut by date inside: none of their later periods is used).
    past = forecast(cut_history(history, settings.horizon), settings, peers=peers)
    shown = history.groupby("unique_id").tail(26)
    vs = past.table.merge(history, on=["unique_id", "ds"])
    return {"available": True, "history": _records(shown), "forecast": _records(fc.table),
            "past_forecast": _records(vs), "chosen": fc.chosen,
            # Other stores whose shape entered the pooling (they have a period on this store's last one).
            "pooled_with_stores": _stores_ending_with(history, peers),
            "month_start_effect": fc.month_start_effect,
            "past_wape": float(np.sum(np.abs(vs["y"] - vs["mean"])) / max(float(np.sum(np.abs(vs["y"]))), 1e-9))
            if not vs.empty else None}


def _stores_ending_with(history: pd.DataFrame, peers: pd.DataFrame | None) -> int:
    if peers is None or peers.empty:
        return 0
    on_last = peers[peers["ds"].isin(history.groupby("unique_id")["ds"].max().unique())]
    return int(on_last["unique_id"].str.split("/", n=1).str[0].nunique())


def _catalogue(session: Session, store_id: str) -> dict[str, CatalogueItem]:
    return {c.item: c for c in session.scalars(select(CatalogueItem).where(CatalogueItem.store_id == store_id))}


def _inventory(session: Session, store_id: str) -> dict[str, InventoryRow]:
    return {r.item: r for r in session.scalars(select(InventoryRow).where(InventoryRow.store_id == store_id))}


def compute(session: Session, store_id: str, settings: InsightsSettings | None = None,
            progress: Progress | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The store's report content (plain JSON data)."""
    settings = settings or InsightsSettings()
    now = now or datetime.now(timezone.utc)
    say = progress or (lambda _m: None)
    say("sales forecast")
    own = load_sales(session, store_id)
    peers = (load_other_stores_sales(session, store_id, own["unique_id"].unique().tolist())
             if settings.pool_with_other_stores and not own.empty else None)
    sales = _sales_part(own, settings.sales, progress, peers)

    last = session.scalar(select(func.max(TransactionLine.at)).where(TransactionLine.store_id == store_id))
    items: dict[str, Any] = {"available": False}
    orders: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    placements: list[dict[str, Any]] = []
    movers: list[dict[str, Any]] = []
    conv: list[dict[str, Any]] = []
    staff: list[dict[str, Any]] = []
    visitors_known = False
    if last is not None:
        say("item demand")
        lines = load_lines(session, store_id, since=last - timedelta(days=max(settings.item_history_days,
                                                                                 settings.basket_days)))
        at = pd.to_datetime(lines["at"], utc=True)
        recent = lines[at >= pd.Timestamp(last) - pd.Timedelta(days=settings.item_history_days)]
        demand = daily_demand(recent, settings.top_items)
        if not demand.empty and demand.groupby("unique_id").size().min() > 2 * settings.items.horizon + 7:
            say("item forecast")
            horizon_days = min(settings.items.horizon, settings.review_days + settings.lead_time_days)
            fc = forecast(demand, settings.items, progress=progress)
            items = {"available": True, "forecast": _records(fc.table), "chosen": fc.chosen}
            cat, inv = _catalogue(session, store_id), _inventory(session, store_id)
            for uid, g in fc.table.groupby("unique_id", sort=True):
                c, stock = cat.get(str(uid)), inv.get(str(uid))
                lead = c.lead_time_days if c else settings.lead_time_days
                days = max(1, min(len(g), lead + settings.review_days))
                g = g.head(days)
                line = order_line(str(uid), g["mean"].tolist(), g["lo"].tolist(), g["hi"].tolist(),
                                  settings.items.level, stock.on_hand if stock else 0.0,
                                  stock.on_order if stock else 0.0, c.pack_size if c else 1,
                                  settings.service_level, c.unit_cost if c else None)
                orders.append({**line.as_dict(), "protection_days": days})
            items["protection_days"] = horizon_days
            movers = _top_movers(demand)
        say("basket rules")
        baskets: dict[str, set[str]] = {}
        for tx, item in lines[["transaction_id", "item"]].itertuples(index=False):
            baskets.setdefault(str(tx), set()).add(str(item))
        found = basket_rules.rules(baskets, settings.min_support, settings.min_confidence)
        rules = [r.as_dict() for r in found[:20]]
        placements = [p.as_dict() for p in basket_rules.placements(found)]
        day_end = pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
        visitors = visitors_per_hour(session, store_id, (day_end - pd.Timedelta(days=1)).to_pydatetime(),
                                     day_end.to_pydatetime())
        visitors_known = bool(visitors)
        conv = conversion(lines, visitors)
        daily_tx = lines.assign(ds=at.dt.tz_localize(None).dt.normalize()).groupby("ds")["transaction_id"].nunique()
        next_day = None
        if len(daily_tx) >= 28:
            say("footfall forecast")
            tx_hist = daily_tx.reindex(pd.date_range(daily_tx.index.min(), daily_tx.index.max()), fill_value=0)
            tx_fc = forecast(pd.DataFrame({"unique_id": "transactions", "ds": tx_hist.index, "y": tx_hist.to_numpy(float)}),
                             settings.items)
            next_day = float(tx_fc.table["mean"].iloc[0])
        staff = staffing(lines, next_day, settings.transactions_per_staff_hour)
    return {"store_id": store_id, "computed_at": now.isoformat(), "data_until": last.isoformat() if last else None,
            "sales": sales, "items": items, "orders": orders, "top_movers": movers, "rules": rules,
            "placements": placements, "conversion": conv, "visitors_known": visitors_known, "staffing": staff,
            "settings": settings.model_dump(mode="json")}


def _top_movers(demand: pd.DataFrame, top: int = 5) -> list[dict[str, Any]]:
    """Items whose last 7 days sold most above or below the 7 days before."""
    end = demand["ds"].max()
    last = demand[demand["ds"] > end - pd.Timedelta(days=7)].groupby("unique_id")["y"].sum()
    prev = demand[(demand["ds"] <= end - pd.Timedelta(days=7)) & (demand["ds"] > end - pd.Timedelta(days=14))
                  ].groupby("unique_id")["y"].sum()
    both = pd.DataFrame({"last_week": last, "previous_week": prev}).fillna(0.0)
    both["change"] = both["last_week"] - both["previous_week"]
    both = both.reindex(both["change"].abs().sort_values(ascending=False, kind="stable").index).head(top)
    return [{"item": str(i), "last_week": float(r.last_week), "previous_week": float(r.previous_week),
             "change": float(r.change)} for i, r in both.iterrows()]


def refresh(session: Session, store_id: str, settings: InsightsSettings | None = None,
            progress: Progress | None = None) -> InsightsReport:
    """Compute and store the store's report in the caller's transaction."""
    return save_report(session, compute(session, store_id, settings, progress))


def save_report(session: Session, content: dict[str, Any]) -> InsightsReport:
    """Store computed report content (computing may run in a read session: no write lock meanwhile)."""
    report = InsightsReport(store_id=content["store_id"], computed_at=datetime.fromisoformat(content["computed_at"]),
                            content=content)
    session.add(report)
    session.flush()
    return report


def latest_report(session: Session, store_id: str) -> InsightsReport | None:
    return session.scalars(select(InsightsReport).where(InsightsReport.store_id == store_id)
                           .order_by(InsightsReport.id.desc()).limit(1)).first()


def propose(session: Session, store_id: str, app_settings: Settings, actor: str,
            now: datetime | None = None) -> PurchaseProposal | None:
    """A purchase proposal from the latest report's order lines, with its review item; ``None``
    when there is no report or nothing to order. The caller commits."""
    from services.central.ingest.store import ingest

    now = now or datetime.now(timezone.utc)
    report = latest_report(session, store_id)
    if report is None:
        return None
    lines = [o for o in report.content.get("orders", []) if o.get("order_units", 0) > 0]
    if not lines:
        return None
    level = float(report.content.get("settings", {}).get("service_level", 0.95))
    proposal = PurchaseProposal(store_id=store_id, event_id=uuid.uuid4(), created_at=now, state="pending",
                                service_level=level, lines=lines)
    session.add(proposal)
    session.flush()
    costs = [o["order_units"] * o["unit_cost"] for o in lines if o.get("unit_cost") is not None]
    units = int(sum(o["order_units"] for o in lines))
    days = max(int(o.get("protection_days", 1)) for o in lines)
    event = Event(event_id=proposal.event_id, type=PROPOSAL_TYPE, use_case=UseCase.J, store_id=store_id,
                  camera_id=SOURCE, occurred_at=now, severity=Severity.NOTICE, review_required=True,
                  payload={"proposal_id": proposal.id, "items": len(lines), "units": units, "service_level": level,
                           "protection_days": days, **({"total_cost": round(sum(costs), 2)} if costs else {})},
                  explanation=Explanation(
                      rule="order_up_to_service_level",
                      summary=f"{len(lines)} items, {units} units: order-up-to levels at a {level:.0%} service level "
                              f"over {days} days of forecast demand",
                      thresholds={"service_level": level}, measured={"units": float(units)}))
    ingest(session, [event], app_settings, actor, now)
    return proposal


def on_decided(session: Session, item: ReviewItem, event: EventRow, final_state: str) -> None:
    """Review hook: a confirmed proposal is approved and its units go on order; dismissed, rejected."""
    if event.type != PROPOSAL_TYPE:
        return
    proposal = session.scalar(select(PurchaseProposal).where(PurchaseProposal.event_id == event.event_id))
    if proposal is None or proposal.state != "pending":
        return
    now = datetime.now(timezone.utc)
    proposal.decided_at = now
    if final_state != "confirmed":
        proposal.state = "rejected"
        return
    proposal.state = "approved"
    stock = _inventory(session, proposal.store_id)
    for line in proposal.lines:
        row = stock.get(line["item"])
        if row is None:
            row = InventoryRow(store_id=proposal.store_id, item=line["item"], on_hand=0.0, on_order=0.0, updated_at=now)
            session.add(row)
        row.on_order = float(row.on_order or 0.0) + float(line["order_units"])
        row.updated_at = now
