"""Exemplars carry their copy's delivery outcomes (exposures, clicks), so retrieval can
prefer copy that won and stop showing copy that lost.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exemplars") as batch:
        batch.add_column(sa.Column("exposures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("clicks", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("exemplars") as batch:
        batch.drop_column("clicks")
        batch.drop_column("exposures")
