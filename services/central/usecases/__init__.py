"""Central's use cases, one package each (``services/central/usecases/<name>/``), listed here.

Each package declares a :class:`~services.central.usecases.base.CentralUseCase`: labels and
dismissal reasons (read by the dashboard's translator and the review rules), a templates folder
(searched after the dashboard's own) and its API and dashboard routers (mounted by the app).

>>> [u.name for u in USE_CASES]
['occupancy', 'entrance', 'floor', 'ventilation', 'insights', 'behaviour', 'shelf', 'signage', 'checkout', 'ordering']
>>> messages()["type.zone.occupancy"][0], use_case_reasons()[:3]
('Zone occupancy', ('people_together', 'measurement_disturbed', 'clinical_check_normal'))
"""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import APIRouter

from services.central.usecases import behaviour, checkout, entrance, floor, insights, occupancy, ordering, shelf, signage, ventilation
from services.central.usecases.base import CentralUseCase, Messages

#: Every use case central knows, in the order their labels, reasons and routes are added.
USE_CASES: tuple[CentralUseCase, ...] = (
    occupancy.USE_CASE, entrance.USE_CASE, floor.USE_CASE, ventilation.USE_CASE, insights.USE_CASE, behaviour.USE_CASE,
    shelf.USE_CASE, signage.USE_CASE, checkout.USE_CASE, ordering.USE_CASE,
)

# Use cases' own tables join Base.metadata as soon as the registry is imported, so the app, the
# migrations and the schema check all see the same set of tables.
for _u in USE_CASES:
    if _u.tables:
        importlib.import_module(_u.tables)


def messages() -> dict[str, tuple[str, str]]:
    """All use cases' labels in one catalogue; a key two use cases define is an error."""
    merged: dict[str, tuple[str, str]] = {}
    owner: dict[str, str] = {}
    for u in USE_CASES:
        for key, pair in u.messages.items():
            if key in merged:
                raise ValueError(f"message {key!r} is defined by use cases {owner[key]} and {u.name}")
            merged[key], owner[key] = pair, u.name
    return merged


def merge_messages(generic: Messages) -> dict[str, tuple[str, str]]:
    """``generic`` plus every use case's labels; a use case may not redefine a generic key."""
    ours = messages()
    clash = sorted(set(generic) & set(ours))
    if clash:
        raise ValueError(f"use-case labels redefine generic dashboard messages: {clash}")
    return {**generic, **ours}


def use_case_reasons() -> tuple[str, ...]:
    """Dismissal reason codes the use cases add, in ``USE_CASES`` order."""
    return tuple(r for u in USE_CASES for r in u.dismiss_reasons)


def template_dirs() -> list[Path]:
    """Use cases' template folders, searched after the dashboard's own."""
    return [u.templates for u in USE_CASES if u.templates is not None]


def api_routers() -> list[APIRouter]:
    """Routers under ``/api/v1`` (in the OpenAPI document)."""
    return [r for u in USE_CASES for r in u.api_routes()]


def dashboard_routers() -> list[APIRouter]:
    """Dashboard pages (signed-in users, outside the OpenAPI document)."""
    return [r for u in USE_CASES for r in u.dashboard_routes()]
