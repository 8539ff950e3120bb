"""Auto-approval paused by the audit can be resumed by a person: ``auto_review_resumes``
holds each resume, and ``auto_review_decisions.audited_at`` dates every audit verdict, so
the pause counts only the verdicts given after the latest resume.

Revision ID: 0013
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auto_review_decisions") as batch:
        batch.add_column(sa.Column("audited_at", sa.DateTime, nullable=True))
    op.create_table(
        "auto_review_resumes",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("campaign", sa.String(128), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("judged", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_auto_review_resumes"),
    )
    op.create_index(
        "ix_auto_review_resumes_brand_campaign", "auto_review_resumes", ["brand", "campaign"]
    )


def downgrade() -> None:
    op.drop_table("auto_review_resumes")
    with op.batch_alter_table("auto_review_decisions") as batch:
        batch.drop_column("audited_at")
