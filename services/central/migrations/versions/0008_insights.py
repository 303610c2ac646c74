"""Use case J sales and purchasing (issue 19): sales, POS lines, catalogue, inventory, imports,
purchase proposals and computed reports.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literal here (not imported from the app) so this revision never changes meaning.
UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "insights_sales",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("series", sa.String(128), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_insights_sales"),
        sa.UniqueConstraint("store_id", "series", "period", name="uq_insights_sales_key"),
    )
    op.create_table(
        "insights_transactions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("transaction_id", sa.String(128), nullable=False),
        sa.Column("item", sa.String(128), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_insights_transactions"),
        sa.UniqueConstraint("store_id", "transaction_id", "item", name="uq_insights_transactions_key"),
    )
    op.create_index("ix_insights_transactions_store_at", "insights_transactions", ["store_id", "at"])
    op.create_table(
        "insights_catalogue",
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("item", sa.String(128), nullable=False),
        sa.Column("unit_cost", sa.Float(), nullable=True),
        sa.Column("pack_size", sa.Integer(), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "item", name="pk_insights_catalogue"),
    )
    op.create_table(
        "insights_inventory",
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("item", sa.String(128), nullable=False),
        sa.Column("on_hand", sa.Float(), nullable=False),
        sa.Column("on_order", sa.Float(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("store_id", "item", name="pk_insights_inventory"),
    )
    op.create_table(
        "insights_imports",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("store_id", sa.String(64), nullable=True),
        sa.Column("file_name", sa.String(256), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_insights_imports"),
    )
    op.create_table(
        "insights_proposals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("service_level", sa.Float(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("decided_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_insights_proposals"),
        sa.UniqueConstraint("event_id", name="uq_insights_proposals_event_id"),
    )
    op.create_index("ix_insights_proposals_store_id", "insights_proposals", ["store_id"])
    op.create_table(
        "insights_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("computed_at", UTC_TIME, nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_insights_reports"),
    )
    op.create_index("ix_insights_reports_store_id", "insights_reports", ["store_id"])


def downgrade() -> None:
    op.drop_index("ix_insights_reports_store_id", table_name="insights_reports")
    op.drop_table("insights_reports")
    op.drop_index("ix_insights_proposals_store_id", table_name="insights_proposals")
    op.drop_table("insights_proposals")
    op.drop_table("insights_imports")
    op.drop_table("insights_inventory")
    op.drop_table("insights_catalogue")
    op.drop_index("ix_insights_transactions_store_at", table_name="insights_transactions")
    op.drop_table("insights_transactions")
    op.drop_table("insights_sales")
