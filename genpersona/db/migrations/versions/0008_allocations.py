"""Learning: stored allocations per (brand, kind, segment) and policy promotion decisions.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "allocations",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("segment", sa.String(512), nullable=False),
        sa.Column("campaign", sa.String(128), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("arms", sa.JSON, nullable=False),
        sa.Column("prior", sa.JSON, nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("warmup", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_allocations"),
        sa.UniqueConstraint("brand", "kind", "segment", "version", name="uq_allocations_version"),
    )
    op.create_index("ix_allocations_brand_campaign", "allocations", ["brand", "campaign"])
    op.create_table(
        "policy_promotions",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("campaign", sa.String(128), nullable=False),
        sa.Column("candidate", sa.String(128), nullable=False),
        sa.Column("current", sa.String(128), nullable=False),
        sa.Column("estimator", sa.String(16), nullable=False),
        sa.Column("promoted", sa.Boolean, nullable=False),
        sa.Column("numbers", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_policy_promotions"),
    )
    op.create_index(
        "ix_policy_promotions_brand_campaign", "policy_promotions", ["brand", "campaign"]
    )


def downgrade() -> None:
    op.drop_table("policy_promotions")
    op.drop_table("allocations")
