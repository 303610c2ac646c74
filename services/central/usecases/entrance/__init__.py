"""Use case A (entrance screening) on central: its labels and dismissal reasons (its alerts go
through the generic review queue; no pages of its own yet)."""

from __future__ import annotations

from services.central.usecases.base import CentralUseCase
from services.central.usecases.entrance.labels import DISMISS_REASONS, MESSAGES
from services.contract import UseCase

USE_CASE = CentralUseCase(name="entrance", use_case=UseCase.A, messages=MESSAGES, dismiss_reasons=DISMISS_REASONS)
