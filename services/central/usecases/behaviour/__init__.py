"""Use case H (shoplifting prevention) on central: neutral labels, per-rule dismissal reasons, the page
that shows which rules mislead (alert and dismissal rates, manager notice) and the evidence clip
player of the review panel. Only the labels are imported here; routes load when the app is assembled."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from services.central.usecases.base import CentralUseCase
from services.central.usecases.behaviour.labels import DISMISS_REASONS, MESSAGES
from services.contract import UseCase


def _dashboard_routes() -> list[APIRouter]:
    from services.central.usecases.behaviour import views

    return [views.router]


USE_CASE = CentralUseCase(
    name="behaviour", use_case=UseCase.H, messages=MESSAGES, dismiss_reasons=DISMISS_REASONS,
    templates=Path(__file__).parent / "templates", dashboard_routes=_dashboard_routes,
)
