"""Use case B (congestion-avoiding routes) on central: each store's floor plan, live density fused
across cameras, least-exposure routes (API and pages), the customer route page and its labels.
Only the labels are imported here; routes load when the app is assembled."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from services.central.usecases.base import CentralUseCase
from services.central.usecases.floor.labels import MESSAGES
from services.contract import UseCase


def _api_routes() -> list[APIRouter]:
    from services.central.usecases.floor import api

    return [api.router]


def _dashboard_routes() -> list[APIRouter]:
    from services.central.usecases.floor import views

    return [views.router]


USE_CASE = CentralUseCase(
    name="floor", use_case=UseCase.B, messages=MESSAGES, templates=Path(__file__).parent / "templates",
    api_routes=_api_routes, dashboard_routes=_dashboard_routes, tables="services.central.usecases.floor.tables",
)
