"""Review queue: drafts, variants, violations, decisions, audit log, exemplars, rule suggestions.

The audit log is append-only in the database itself: a trigger refuses every
UPDATE, and every DELETE unless the erasure transaction first granted it for
that customer (``audit_erasure_grants``), so no code path can quietly rewrite
history.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PENDING_ONLY = sa.text("status = 'pending'")

_SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only: rows are never updated');
    END
    """,
    """
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    WHEN OLD.customer_id IS NULL
      OR NOT EXISTS (SELECT 1 FROM audit_erasure_grants g WHERE g.customer_id = OLD.customer_id)
    BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only: rows are deleted only by customer erasure');
    END
    """,
]

_PG_TRIGGERS = [
    """
    CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            RAISE EXCEPTION 'audit_log is append-only: rows are never updated';
        END IF;
        IF OLD.customer_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM audit_erasure_grants g WHERE g.customer_id = OLD.customer_id
        ) THEN
            RAISE EXCEPTION 'audit_log is append-only: rows are deleted only by customer erasure';
        END IF;
        RETURN OLD;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard()
    """,
]


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("campaign", sa.String(128), nullable=True),
        sa.Column("brief", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("top_score", sa.Float, nullable=False),
        sa.Column("top_text", sa.Text, nullable=False),
        sa.Column("has_violations", sa.Boolean, nullable=False),
        sa.Column("is_fallback", sa.Boolean, nullable=False),
        sa.Column("violation_count", sa.Integer, nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("prompt_version", sa.String(64), nullable=False),
        sa.Column("rationale", sa.JSON, nullable=False),
        sa.Column("trace", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("decided_at", sa.DateTime, nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("chosen_variant", sa.Integer, nullable=True),
        sa.Column("regenerated_from", sa.Integer, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'edited', 'rejected', 'expired')",
            name="status_valid",
        ),
    )
    op.create_index(
        "uq_drafts_pending_idempotency_key",
        "drafts",
        ["idempotency_key"],
        unique=True,
        sqlite_where=PENDING_ONLY,
        postgresql_where=PENDING_ONLY,
    )
    op.create_index("ix_drafts_idempotency_key", "drafts", ["idempotency_key"])
    op.create_index("ix_drafts_customer_id", "drafts", ["customer_id"])
    op.create_index("ix_drafts_status_created", "drafts", ["status", "created_at", "id"])
    op.create_index("ix_drafts_status_score", "drafts", ["status", "top_score", "id"])
    op.create_index("ix_drafts_brand_status_created", "drafts", ["brand", "status", "created_at"])
    op.create_index("ix_drafts_campaign_status", "drafts", ["campaign", "status"])
    op.create_index("ix_drafts_kind_status", "drafts", ["kind", "status"])
    op.create_index("ix_drafts_status_flags", "drafts", ["status", "has_violations", "is_fallback"])
    op.create_index("ix_drafts_decided_at", "drafts", ["decided_at"])

    op.create_table(
        "draft_variants",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "draft_id",
            sa.Integer,
            sa.ForeignKey(
                "drafts.id", ondelete="CASCADE", name="fk_draft_variants_draft_id_drafts"
            ),
            nullable=False,
        ),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("scores", sa.JSON, nullable=False),
        sa.Column("total_score", sa.Float, nullable=False),
        sa.Column("violations", sa.JSON, nullable=False),
        sa.Column("fixes_applied", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("is_fallback", sa.Boolean, nullable=False),
        sa.UniqueConstraint("draft_id", "idx", name="uq_draft_variants_draft_idx"),
    )
    op.create_index("ix_draft_variants_draft_id", "draft_variants", ["draft_id"])

    op.create_table(
        "draft_violations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "draft_id",
            sa.Integer,
            sa.ForeignKey(
                "drafts.id", ondelete="CASCADE", name="fk_draft_violations_draft_id_drafts"
            ),
            nullable=False,
        ),
        sa.Column("variant_idx", sa.Integer, nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
    )
    op.create_index("ix_draft_violations_draft_id", "draft_violations", ["draft_id"])
    op.create_index("ix_draft_violations_rule_id", "draft_violations", ["rule_id"])

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "draft_id",
            sa.Integer,
            sa.ForeignKey("drafts.id", ondelete="CASCADE", name="fk_reviews_draft_id_drafts"),
            nullable=False,
        ),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("variant_index", sa.Integer, nullable=True),
        sa.Column("reason_code", sa.String(32), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("edited_content", sa.JSON, nullable=True),
        sa.Column("diff", sa.JSON, nullable=True),
        sa.Column("edit_size", sa.Integer, nullable=False),
        sa.Column("draft_version", sa.Integer, nullable=False),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("campaign", sa.String(128), nullable=True),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_reviews_draft_id", "reviews", ["draft_id"])
    op.create_index("ix_reviews_customer_id", "reviews", ["customer_id"])
    op.create_index("ix_reviews_created_decision", "reviews", ["created_at", "decision"])
    op.create_index("ix_reviews_brand_campaign", "reviews", ["brand", "campaign"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("draft_id", sa.Integer, nullable=True),
        sa.Column("brand", sa.String(64), nullable=True),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("payload", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_draft_id", "audit_log", ["draft_id"])
    op.create_index("ix_audit_log_customer_id", "audit_log", ["customer_id"])

    op.create_table(
        "audit_erasure_grants",
        sa.Column("customer_id", sa.String(64), primary_key=True),
    )

    op.create_table(
        "exemplars",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("brief", sa.Text, nullable=False),
        sa.Column("campaign", sa.String(128), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("source_draft_id", sa.Integer, nullable=True),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("embedded", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_exemplars_brand_kind", "exemplars", ["brand", "kind"])
    op.create_index("ix_exemplars_source_draft_id", "exemplars", ["source_draft_id"])
    op.create_index("ix_exemplars_customer_id", "exemplars", ["customer_id"])

    op.create_table(
        "rule_suggestions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("old_term", sa.String(128), nullable=False),
        sa.Column("new_term", sa.String(128), nullable=False),
        sa.Column("occurrences", sa.Integer, nullable=False),
        sa.Column("example_draft_ids", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("decided_at", sa.DateTime, nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.UniqueConstraint("brand", "old_term", "new_term", name="uq_rule_suggestions_term"),
    )
    op.create_index("ix_rule_suggestions_brand_status", "rule_suggestions", ["brand", "status"])

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for stmt in _SQLITE_TRIGGERS:
            op.execute(stmt)
    elif dialect == "postgresql":
        for stmt in _PG_TRIGGERS:
            op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_guard ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_guard()")
    for table in (
        "rule_suggestions",
        "exemplars",
        "audit_erasure_grants",
        "audit_log",
        "reviews",
        "draft_violations",
        "draft_variants",
        "drafts",
    ):
        op.drop_table(table)
