"""Use case I (robot restocking) on central: restock tasks from shelf gaps, VDA 5050 orders to the
store's robots with a staff fallback, the closed loop back to the camera, and the shelf page.
Only the labels are imported here; routes, the controller and MQTT load when used."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from services.central.usecases.base import CentralUseCase
from services.central.usecases.shelf.labels import MESSAGES
from services.contract import UseCase


def _api_routes() -> list[APIRouter]:
    from services.central.usecases.shelf import api

    return [api.router]


def _dashboard_routes() -> list[APIRouter]:
    from services.central.usecases.shelf import views

    return [views.router]


USE_CASE = CentralUseCase(
    name="shelf", use_case=UseCase.I, messages=MESSAGES, templates=Path(__file__).parent / "templates",
    api_routes=_api_routes, dashboard_routes=_dashboard_routes, tables="services.central.usecases.shelf.tables",
)
