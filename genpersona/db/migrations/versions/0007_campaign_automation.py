"""Campaign automation: definitions, per-period scheduled runs, trigger fires, auto-review.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_definitions",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_definitions"),
        sa.UniqueConstraint("brand", "name", "version", name="uq_campaign_definitions_version"),
    )
    op.create_table(
        "campaign_period_runs",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("period", sa.String(40), nullable=False),
        sa.Column("definition_version", sa.Integer, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_period_runs"),
        sa.UniqueConstraint("brand", "name", "period", name="uq_campaign_period_runs_period"),
    )
    op.create_table(
        "trigger_fires",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("flow", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("event_key", sa.String(128), nullable=False),
        sa.Column("event_ts", sa.DateTime, nullable=False),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("draft_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trigger_fires"),
        sa.UniqueConstraint(
            "brand", "flow", "customer_id", "event_key", name="uq_trigger_fires_key"
        ),
    )
    op.create_index("ix_trigger_fires_customer_id", "trigger_fires", ["customer_id"])
    op.create_index("ix_trigger_fires_status_due", "trigger_fires", ["status", "due_at"])
    op.create_table(
        "auto_review_decisions",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("draft_id", sa.Integer, nullable=False),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("campaign", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("audit_sampled", sa.Boolean, nullable=False),
        sa.Column("audit_ok", sa.Boolean, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_auto_review_decisions"),
        sa.UniqueConstraint("draft_id", name="uq_auto_review_decisions_draft_id"),
    )
    op.create_index(
        "ix_auto_review_decisions_customer_id", "auto_review_decisions", ["customer_id"]
    )
    op.create_index("ix_auto_review_brand_campaign", "auto_review_decisions", ["brand", "campaign"])


def downgrade() -> None:
    op.drop_table("auto_review_decisions")
    op.drop_table("trigger_fires")
    op.drop_table("campaign_period_runs")
    op.drop_table("campaign_definitions")
