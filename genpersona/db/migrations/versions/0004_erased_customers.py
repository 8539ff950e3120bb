"""Suppression list of erased customers (digests only), so re-imports do not revive them.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erased_customers",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("erased_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_erased_customers"),
        sa.UniqueConstraint("brand", "digest", name="uq_erased_customers_brand"),
    )


def downgrade() -> None:
    op.drop_table("erased_customers")
