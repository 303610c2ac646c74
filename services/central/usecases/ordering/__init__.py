"""Use case D (contactless ordering) on central: the kiosk page (menu, basket, order; mouse, touch,
air-touch pointer events and a phone QR code), the idempotent order endpoint, the staff's orders
page and API, and its labels. Only the labels are imported here; routes load when the app is assembled.

The air-touch pointer itself runs on the kiosk (``edge/usecases/airtouch``); the page reads its
events from the kiosk's loopback, so edge and central share no code."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from services.central.usecases.base import CentralUseCase
from services.central.usecases.ordering.labels import MESSAGES
from services.contract import UseCase


def _api_routes() -> list[APIRouter]:
    from services.central.usecases.ordering import api

    return [api.router]


def _dashboard_routes() -> list[APIRouter]:
    from services.central.usecases.ordering import views

    return [views.router]


USE_CASE = CentralUseCase(
    name="ordering", use_case=UseCase.D, messages=MESSAGES, templates=Path(__file__).parent / "templates",
    api_routes=_api_routes, dashboard_routes=_dashboard_routes, tables="services.central.usecases.ordering.tables",
)
