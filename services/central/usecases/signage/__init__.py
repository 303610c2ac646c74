"""Use case C (remote service through signage) on central: calls from store signage to remote
staff, WebRTC signalling (media goes browser to browser), pushed content, announcements and the
per-store figures. Only the labels are imported here; routes load when the app is assembled."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from services.central.usecases.base import CentralUseCase
from services.central.usecases.signage.labels import MESSAGES
from services.contract import UseCase


def _api_routes() -> list[APIRouter]:
    from services.central.usecases.signage import api

    return [api.router]


def _dashboard_routes() -> list[APIRouter]:
    from services.central.usecases.signage import views

    return [views.router]


USE_CASE = CentralUseCase(
    name="signage", use_case=UseCase.C, messages=MESSAGES, templates=Path(__file__).parent / "templates",
    api_routes=_api_routes, dashboard_routes=_dashboard_routes, tables="services.central.usecases.signage.tables",
)
