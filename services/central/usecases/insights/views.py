"""Dashboard pages of use case J: ``/insights`` (stores) and ``/insights/{store_id}`` (the weekly
report: sales forecast, purchase proposal, basket rules, conversion, staffing), its plots as PNG
and its PDF export. Everything is read from the stored report; nothing is fitted here."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central.dashboard.web import SignedInUi, Ui
from services.central.db.tables import ReviewItem
from services.central.stores import known_stores
from services.central.usecases.insights import report as render
from services.central.usecases.insights.service import latest_report
from services.central.usecases.insights.tables import InsightsReport, PurchaseProposal

router = APIRouter(include_in_schema=False)


def proposals(session: Session, store_id: str, limit: int = 5) -> list[dict[str, Any]]:
    rows = session.scalars(select(PurchaseProposal).where(PurchaseProposal.store_id == store_id)
                           .order_by(PurchaseProposal.id.desc()).limit(limit)).all()
    items = dict(session.execute(select(ReviewItem.event_id, ReviewItem.id).where(
        ReviewItem.event_id.in_([p.event_id for p in rows]))).all()) if rows else {}
    return [{"id": p.id, "state": p.state, "created_at": p.created_at.isoformat(), "lines": p.lines,
             "review_id": items.get(p.event_id)} for p in rows]


@router.get("/insights")
def insights_stores(ui: SignedInUi) -> Response:
    assert ui.viewer is not None
    with ui.db.read_session() as session:
        with_reports = set(session.scalars(select(InsightsReport.store_id).distinct()))
        ids = [ui.viewer.store_id] if ui.viewer.store_id else sorted(set(known_stores(session)) | with_reports)
    return ui.page("insights_stores.html", stores=ids)


@router.get("/insights/{store_id}")
def insights_page(store_id: str, ui: SignedInUi) -> Response:
    if not ui.sees_store(store_id):
        return ui.not_found()
    with ui.db.read_session() as session:
        report = latest_report(session, store_id)
        props = proposals(session, store_id)
    content = report.content if report else None
    return ui.page("insights.html", store_id=store_id, report=content, proposals=props,
                   orders=[o for o in (content or {}).get("orders", []) if o.get("order_units", 0) > 0])


def _content(ui: Ui, store_id: str) -> dict[str, Any] | None:
    with ui.db.read_session() as session:
        report = latest_report(session, store_id)
        return dict(report.content) if report else None


@router.get("/insights/{store_id}/plots/{name}.png")
def insights_plot(store_id: str, name: str, ui: SignedInUi) -> Response:
    content = _content(ui, store_id) if ui.sees_store(store_id) else None
    draw = {"forecast": render.forecast_figure, "movers": render.movers_figure}.get(name)
    image = render.png(draw(content, ui.t)) if content and draw else None
    if image is None:
        return ui.not_found()
    return Response(image, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})


@router.get("/insights/{store_id}/report.pdf")
def insights_pdf(store_id: str, ui: SignedInUi) -> Response:
    content = _content(ui, store_id) if ui.sees_store(store_id) else None
    if content is None:
        return ui.not_found()
    with ui.db.read_session() as session:
        props = proposals(session, store_id)
    name = f"insights-{store_id}-{(content.get('data_until') or '')[:10]}-{ui.t.locale}.pdf"
    return Response(render.pdf(content, ui.t, props), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
