"""Exposure log: every piece of content given to a recipient, with the policy's probabilities.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exposures",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("campaign", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("recipient_key", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("draft_id", sa.Integer, nullable=True),
        sa.Column("variant_index", sa.Integer, nullable=True),
        sa.Column("recipe_id", sa.String(64), nullable=True),
        sa.Column("policy_name", sa.String(64), nullable=False),
        sa.Column("policy_version", sa.String(32), nullable=False),
        sa.Column("propensity", sa.Float, nullable=False),
        sa.Column("probabilities", sa.JSON, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("holdout", sa.Boolean, nullable=False),
        sa.Column("fallback", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("tag", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_exposures"),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["drafts.id"], name="fk_exposures_draft_id_drafts", ondelete="SET NULL"
        ),
        sa.UniqueConstraint(
            "brand", "campaign", "recipient_key", "channel", name="uq_exposures_brand"
        ),
        sa.UniqueConstraint("tag", name="uq_exposures_tag"),
    )
    op.create_index("ix_exposures_customer_id", "exposures", ["customer_id"])
    op.create_index("ix_exposures_brand_campaign", "exposures", ["brand", "campaign"])
    op.create_index("ix_exposures_draft_id", "exposures", ["draft_id"])


def downgrade() -> None:
    op.drop_table("exposures")
