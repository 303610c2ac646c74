"""Use case E opt-in face checkout (issue 18): checkout_members, checkout_member_keys,
checkout_baskets and checkout_charges.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literal here (not imported from the app) so this revision never changes meaning.
UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "checkout_members",
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("consent_version", sa.String(16), nullable=False),
        sa.Column("consent_language", sa.String(2), nullable=False),
        sa.Column("consent_channel", sa.String(16), nullable=False),
        sa.Column("consent_sha256", sa.String(64), nullable=False),
        sa.Column("payment_token", sa.String(64), nullable=True),
        sa.Column("photos", sa.Integer(), nullable=False),
        sa.Column("template_nonce", sa.LargeBinary(), nullable=True),
        sa.Column("template_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_checkout_members"),
    )
    op.create_index("ix_checkout_members_store_state", "checkout_members", ["store_id", "state"])
    op.create_table(
        "checkout_member_keys",
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("wrap_nonce", sa.LargeBinary(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["checkout_members.member_id"], ondelete="CASCADE",
                                name="fk_checkout_member_keys_member_id_checkout_members"),
        sa.PrimaryKeyConstraint("member_id", name="pk_checkout_member_keys"),
    )
    op.create_table(
        "checkout_baskets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_checkout_baskets"),
    )
    op.create_index("ix_checkout_baskets_member_state", "checkout_baskets", ["member_id", "state"])
    op.create_table(
        "checkout_charges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("exit_id", sa.String(64), nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("basket_id", sa.Uuid(), nullable=True),
        sa.Column("amount_yen", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("provider_charge_id", sa.String(64), nullable=True),
        sa.Column("provider_refund_id", sa.String(64), nullable=True),
        sa.Column("distance", sa.Float(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_checkout_charges"),
        sa.UniqueConstraint("store_id", "exit_id", name="uq_checkout_charges_store_exit"),
    )


def downgrade() -> None:
    op.drop_table("checkout_charges")
    op.drop_index("ix_checkout_baskets_member_state", table_name="checkout_baskets")
    op.drop_table("checkout_baskets")
    op.drop_table("checkout_member_keys")
    op.drop_index("ix_checkout_members_store_state", table_name="checkout_members")
    op.drop_table("checkout_members")
