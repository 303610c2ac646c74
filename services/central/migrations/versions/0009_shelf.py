"""Use case I shelf gaps, restock tasks and robot orders (issue 16): shelf_tasks and shelf_robots.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literal here (not imported from the app) so this revision never changes meaning.
UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "shelf_tasks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("segment", sa.String(64), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("gap_event_id", sa.Uuid(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("sales_rate", sa.Float(), nullable=False),
        sa.Column("sales_source", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(8), nullable=False),
        sa.Column("robot", sa.String(64), nullable=True),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("order_state", sa.String(16), nullable=True),
        sa.Column("fallback_reason", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("done_by", sa.String(16), nullable=True),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("gap_at", UTC_TIME, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("done_at", UTC_TIME, nullable=True),
        sa.Column("refill_s", sa.Float(), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shelf_tasks"),
        sa.UniqueConstraint("gap_event_id", name="uq_shelf_tasks_gap_event_id"),
    )
    op.create_index("ix_shelf_tasks_store_state", "shelf_tasks", ["store_id", "state"])
    op.create_table(
        "shelf_robots",
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("manufacturer", sa.String(64), nullable=False),
        sa.Column("connection", sa.String(16), nullable=False),
        sa.Column("battery", sa.Float(), nullable=True),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("fatal", sa.Boolean(), nullable=False),
        sa.Column("last_state", sa.JSON(), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("serial", name="pk_shelf_robots"),
    )


def downgrade() -> None:
    op.drop_table("shelf_robots")
    op.drop_index("ix_shelf_tasks_store_state", table_name="shelf_tasks")
    op.drop_table("shelf_tasks")
