"""Use case G ventilation control (issue 14): no tables of its own.

G's state lives where the core keeps it: zone reports, setpoint changes and purge completions are
events; an infection report is an event with its two-person review item; purges and overrides are
commands (with their results). The revision stays so the chain of revisions is the one reserved.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
