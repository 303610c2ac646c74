"""Use case G (ventilation control) on central: the ventilation page per store, infection reports
under the two-person rule and the purge they trigger (``on_decided``), manual overrides. Only the
labels are imported here; routes and the service load when used."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter

from services.central.usecases.base import CentralUseCase
from services.central.usecases.ventilation.labels import MESSAGES
from services.contract import UseCase

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from services.central.db.tables import EventRow, ReviewItem


def _api_routes() -> list[APIRouter]:
    from services.central.usecases.ventilation import api

    return [api.router]


def _dashboard_routes() -> list[APIRouter]:
    from services.central.usecases.ventilation import views

    return [views.router]


def _on_decided(session: Session, item: ReviewItem, event: EventRow, state: str) -> None:
    from services.central.usecases.ventilation.service import on_decided

    on_decided(session, item, event, state)


USE_CASE = CentralUseCase(
    name="ventilation", use_case=UseCase.G, messages=MESSAGES, templates=Path(__file__).parent / "templates",
    api_routes=_api_routes, dashboard_routes=_dashboard_routes, on_decided=_on_decided,
)
