"""Use case F (density monitoring) on central: the live store view with zone occupancy, its API,
and its labels. Only the labels are imported here; routes load when the app is assembled.

F's central side is one use case in three folders: this one (occupancy and the store page),
``usecases/lines`` (visitors from entrance lines) and ``usecases/comfort`` (light and air); their
labels and API routes join F's here."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from services.central.usecases.base import CentralUseCase
from services.central.usecases.comfort.labels import MESSAGES as COMFORT_MESSAGES
from services.central.usecases.lines.labels import MESSAGES as LINES_MESSAGES
from services.central.usecases.occupancy.labels import DISMISS_REASONS, MESSAGES
from services.contract import UseCase


def _f_messages() -> dict[str, tuple[str, str]]:
    """F's labels from its three folders; a key two of them define is an error, not a silent override."""
    parts = (MESSAGES, LINES_MESSAGES, COMFORT_MESSAGES)
    clash = sorted(k for i, a in enumerate(parts) for b in parts[i + 1:] for k in set(a) & set(b))
    if clash:
        raise ValueError(f"use case F: labels defined twice: {clash}")
    return {k: v for part in parts for k, v in part.items()}


def _api_routes() -> list[APIRouter]:
    from services.central.usecases.comfort import api as comfort_api
    from services.central.usecases.lines import api as lines_api
    from services.central.usecases.occupancy import api

    return [api.router, lines_api.router, comfort_api.router]


def _dashboard_routes() -> list[APIRouter]:
    from services.central.usecases.occupancy import views

    return [views.router]


USE_CASE = CentralUseCase(
    name="occupancy", use_case=UseCase.F, messages=_f_messages(), dismiss_reasons=DISMISS_REASONS,
    templates=Path(__file__).parent / "templates", api_routes=_api_routes, dashboard_routes=_dashboard_routes,
)
