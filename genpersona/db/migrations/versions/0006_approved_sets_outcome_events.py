"""Approved variant sets, and outcomes as email platforms report them.

- ``draft_variants.approved``: approving a draft approves a *set* of its
  variants (the policy chooses among them at send time). Drafts approved
  before this revision get their one chosen variant flagged.
- ``outcomes``: ``provider`` and ``event_key`` (the vendor's event id, unique
  per provider, so a replayed webhook batch is stored once), ``exposure_id``
  (the exposure the event reports on), ``machine_open`` (privacy-proxy and
  scanner opens, which never count as human opens). ``draft_id`` and
  ``variant_index`` become nullable: a holdout recipient's click names an
  exposure that showed generic copy, not a draft.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("draft_variants") as batch:
        batch.add_column(
            sa.Column("approved", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE draft_variants SET approved = TRUE WHERE EXISTS ("
        " SELECT 1 FROM drafts WHERE drafts.id = draft_variants.draft_id"
        " AND drafts.status = 'approved' AND drafts.chosen_variant = draft_variants.idx)"
    )
    with op.batch_alter_table("outcomes") as batch:
        batch.alter_column("draft_id", existing_type=sa.Integer, nullable=True)
        batch.alter_column("variant_index", existing_type=sa.Integer, nullable=True)
        batch.add_column(sa.Column("provider", sa.String(32), nullable=True))
        batch.add_column(sa.Column("event_key", sa.String(128), nullable=True))
        batch.add_column(sa.Column("exposure_id", sa.Integer, nullable=True))
        batch.add_column(
            sa.Column("machine_open", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.create_foreign_key(
            "fk_outcomes_exposure_id_exposures",
            "exposures",
            ["exposure_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint("uq_outcomes_provider", ["provider", "event_key"])
        batch.create_index("ix_outcomes_exposure_id_type", ["exposure_id", "type"])


def downgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_index("ix_outcomes_exposure_id_type")
        batch.drop_constraint("uq_outcomes_provider", type_="unique")
        batch.drop_constraint("fk_outcomes_exposure_id_exposures", type_="foreignkey")
        batch.drop_column("machine_open")
        batch.drop_column("exposure_id")
        batch.drop_column("event_key")
        batch.drop_column("provider")
    op.execute("DELETE FROM outcomes WHERE draft_id IS NULL OR variant_index IS NULL")
    with op.batch_alter_table("outcomes") as batch:
        batch.alter_column("draft_id", existing_type=sa.Integer, nullable=False)
        batch.alter_column("variant_index", existing_type=sa.Integer, nullable=False)
    with op.batch_alter_table("draft_variants") as batch:
        batch.drop_column("approved")
