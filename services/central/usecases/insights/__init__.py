"""Use case J (sales and purchasing) on central: forecasts, purchase proposals, basket rules,
conversion and staffing from imported sales and POS data. Only labels are imported here; routes,
pandas and statsforecast load when used."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter

from services.central.usecases.base import CentralUseCase
from services.central.usecases.insights.labels import MESSAGES
from services.contract import UseCase

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from services.central.db.tables import EventRow, ReviewItem


def _api_routes() -> list[APIRouter]:
    from services.central.usecases.insights import api

    return [api.router]


def _dashboard_routes() -> list[APIRouter]:
    from services.central.usecases.insights import views

    return [views.router]


def _on_decided(session: Session, item: ReviewItem, event: EventRow, final_state: str) -> None:
    from services.central.usecases.insights.service import on_decided

    on_decided(session, item, event, final_state)


USE_CASE = CentralUseCase(
    name="insights", use_case=UseCase.J, messages=MESSAGES, templates=Path(__file__).parent / "templates",
    api_routes=_api_routes, dashboard_routes=_dashboard_routes,
    tables="services.central.usecases.insights.tables", on_decided=_on_decided,
)
