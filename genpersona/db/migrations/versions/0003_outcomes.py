"""Outcomes of sent variants, and campaign runs with one item per targeted customer.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("draft_id", sa.Integer, nullable=False),
        sa.Column("variant_index", sa.Integer, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("campaign", sa.String(128), nullable=True),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("ts", sa.DateTime, nullable=False),
        sa.Column("outcome_key", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outcomes"),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["drafts.id"], name="fk_outcomes_draft_id_drafts", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("outcome_key", name="uq_outcomes_outcome_key"),
    )
    op.create_index("ix_outcomes_draft_id", "outcomes", ["draft_id"])
    op.create_index("ix_outcomes_customer_id", "outcomes", ["customer_id"])
    op.create_index("ix_outcomes_brand_campaign_type", "outcomes", ["brand", "campaign", "type"])
    op.create_index(
        "ix_outcomes_draft_variant_type", "outcomes", ["draft_id", "variant_index", "type"]
    )

    op.create_table(
        "campaign_runs",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("brief", sa.Text, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("segment", sa.JSON, nullable=False),
        sa.Column("distributed", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("targeted", sa.Integer, nullable=False),
        sa.Column("generated", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_runs"),
    )
    op.create_index("ix_campaign_runs_name", "campaign_runs", ["name"])
    op.create_index("ix_campaign_runs_brand_started", "campaign_runs", ["brand", "started_at"])

    op.create_table(
        "campaign_run_items",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("draft_id", sa.Integer, nullable=True),
        sa.Column("error", sa.String(64), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_run_items"),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["campaign_runs.id"],
            name="fk_campaign_run_items_run_id_campaign_runs",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("run_id", "customer_id", name="uq_campaign_run_items_run"),
    )
    op.create_index("ix_campaign_run_items_run_id", "campaign_run_items", ["run_id"])
    op.create_index("ix_campaign_run_items_customer_id", "campaign_run_items", ["customer_id"])


def downgrade() -> None:
    op.drop_table("campaign_run_items")
    op.drop_table("campaign_runs")
    op.drop_table("outcomes")
