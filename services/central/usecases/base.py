"""What a use case brings to central: its labels, dismissal reasons, pages and routes.

A use case lives in ``services/central/usecases/<name>/``; its package ``__init__`` declares one
:class:`CentralUseCase` and imports only plain data (labels), so the dashboard's translator and
template loader can read every use case without importing any route. Routes are imported when
the app is assembled (``routes()``), because views need the dashboard, which needs the labels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter

from services.contract import UseCase

if TYPE_CHECKING:  # only for the hook's signature: the labels stay importable without the ORM
    from sqlalchemy.orm import Session

    from services.central.db.tables import EventRow, ReviewItem

#: message key -> (English, Japanese), as in ``services.central.dashboard.i18n``.
Messages = Mapping[str, tuple[str, str]]

#: ``on_decided(session, item, event, final_state)``: called once a review item of this use case
#: reaches a final decision (``"confirmed"`` or ``"dismissed"``; under the two-person rule only after
#: the second agreeing decision), inside the decision's transaction, so whatever the hook writes
#: commits or rolls back with the decision. ``item.decisions`` says who decided.
DecisionHook = Callable[["Session", "ReviewItem", "EventRow", str], None]


def _no_routes() -> list[APIRouter]:
    return []


@dataclass(frozen=True)
class CentralUseCase:
    """One use case's central side."""

    name: str
    use_case: UseCase
    messages: Messages = field(default_factory=dict)
    #: dismissal reason codes only this use case offers (labels: ``reason.<code>`` in ``messages``)
    dismiss_reasons: tuple[str, ...] = ()
    #: folder of this use case's Jinja templates (found after the dashboard's own)
    templates: Path | None = None
    #: API routers (``/api/v1/...``, in the OpenAPI document) and dashboard routers (pages)
    api_routes: Callable[[], list[APIRouter]] = _no_routes
    dashboard_routes: Callable[[], list[APIRouter]] = _no_routes
    #: module that declares this use case's own tables on ``services.central.db.tables.Base``
    #: (imported with the registry, so migrations and the schema check see them), or ``None``
    tables: str | None = None
    #: acts on a final review decision of this use case's events (see :data:`DecisionHook`),
    #: e.g. start a purge once two people confirmed it; ``None``: nothing to do
    on_decided: DecisionHook | None = None

    def __post_init__(self) -> None:
        unlabelled = [r for r in self.dismiss_reasons if f"reason.{r}" not in self.messages]
        if unlabelled:
            raise ValueError(f"use case {self.name}: dismissal reasons without a label: {unlabelled}")
