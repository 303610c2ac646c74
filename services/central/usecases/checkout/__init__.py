"""Use case E (opt-in face checkout) on central: consenting members with encrypted, erasable face
templates, the 1:N exit decision, session baskets and a payment adapter with idempotency keys.

Only the labels are imported here; routes load when the app is assembled.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from services.central.usecases.base import CentralUseCase
from services.central.usecases.checkout.labels import MESSAGES
from services.contract import UseCase


def _api_routes() -> list[APIRouter]:
    from services.central.usecases.checkout import api

    return [api.router]


def _dashboard_routes() -> list[APIRouter]:
    from services.central.usecases.checkout import views

    return [views.router]


def _on_decided(session, item, event, final_state) -> None:  # noqa: ANN001 - see DecisionHook
    from services.central.usecases.checkout.service import on_decided

    on_decided(session, item, event, final_state)


USE_CASE = CentralUseCase(
    name="checkout", use_case=UseCase.E, messages=MESSAGES, templates=Path(__file__).parent / "templates",
    api_routes=_api_routes, dashboard_routes=_dashboard_routes, tables="services.central.usecases.checkout.tables",
    on_decided=_on_decided,
)
