"""Every draft variant records the recipe (angle/template version/exemplar policy) it was
written from, as a column so outcomes can be grouped by recipe without a JSON scan.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("draft_variants") as batch:
        batch.add_column(sa.Column("recipe_id", sa.String(64), nullable=True))
        batch.create_index("ix_draft_variants_recipe_id", ["recipe_id"])


def downgrade() -> None:
    with op.batch_alter_table("draft_variants") as batch:
        batch.drop_index("ix_draft_variants_recipe_id")
        batch.drop_column("recipe_id")
