"""Review-queue tables: drafts, their variants, decisions, the audit log, exemplars.

The columns the queue filters and sorts on (brand, campaign, kind, status,
top score, flags, age) are plain indexed columns rather than JSON, so paging a
queue of tens of thousands of drafts never parses a blob. ``customer_id`` and
``brand`` are plain strings, not foreign keys into the data layer's tables, so
the review queue can be migrated, tested and erased on its own.
The schema itself is created only by migration ``0002``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from genpersona.db.base import Base, utcnow

PENDING_ONLY = text("status = 'pending'")


class DraftRow(Base):
    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    campaign: Mapped[str | None] = mapped_column(String(128))
    brief: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    idempotency_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    top_score: Mapped[float] = mapped_column(Float, default=0.0)
    top_text: Mapped[str] = mapped_column(Text, default="")
    has_violations: Mapped[bool] = mapped_column(Boolean, default=False)
    is_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    violation_count: Mapped[int] = mapped_column(Integer, default=0)
    model: Mapped[str] = mapped_column(String(128), default="")
    prompt_version: Mapped[str] = mapped_column(String(64), default="")
    rationale: Mapped[dict[str, Any]] = mapped_column(JSON)
    trace: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    chosen_variant: Mapped[int | None] = mapped_column(Integer)
    regenerated_from: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        # at most one *pending* draft per request: the database enforces idempotency
        Index(
            "uq_drafts_pending_idempotency_key",
            "idempotency_key",
            unique=True,
            sqlite_where=PENDING_ONLY,
            postgresql_where=PENDING_ONLY,
        ),
        Index("ix_drafts_idempotency_key", "idempotency_key"),
        Index("ix_drafts_status_created", "status", "created_at", "id"),
        Index("ix_drafts_status_score", "status", "top_score", "id"),
        Index("ix_drafts_brand_status_created", "brand", "status", "created_at"),
        Index("ix_drafts_campaign_status", "campaign", "status"),
        Index("ix_drafts_kind_status", "kind", "status"),
        Index("ix_drafts_status_flags", "status", "has_violations", "is_fallback"),
        Index("ix_drafts_decided_at", "decided_at"),
    )


class DraftVariantRow(Base):
    __tablename__ = "draft_variants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    total_score: Mapped[float] = mapped_column(Float, default=0.0)
    violations: Mapped[list[Any]] = mapped_column(JSON)
    fixes_applied: Mapped[list[Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    is_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    #: in the draft's approved set (migration 0006): what delivery may send
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    recipe_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)

    __table_args__ = (UniqueConstraint("draft_id", "idx", name="uq_draft_variants_draft_idx"),)


class DraftViolationRow(Base):
    """One row per violation, so 'violations by rule' is a GROUP BY, not a JSON scan."""

    __tablename__ = "draft_violations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    variant_idx: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(8))


class ReviewRow(Base):
    """One decision on a draft (approved, edited, rejected, expired, regenerated)."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    reviewer: Mapped[str] = mapped_column(String(64))
    variant_index: Mapped[int | None] = mapped_column(Integer)
    reason_code: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    edited_content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    diff: Mapped[list[Any] | None] = mapped_column(JSON)
    edit_size: Mapped[int] = mapped_column(Integer, default=0)
    draft_version: Mapped[int] = mapped_column(Integer)
    brand: Mapped[str] = mapped_column(String(64))
    campaign: Mapped[str | None] = mapped_column(String(128))
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        Index("ix_reviews_created_decision", "created_at", "decision"),
        Index("ix_reviews_brand_campaign", "brand", "campaign"),
    )


class AuditRow(Base):
    """Append-only: rows are never updated; deleted only by customer erasure (see audit.py)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    draft_id: Mapped[int | None] = mapped_column(Integer, index=True)
    brand: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class AuditErasureGrantRow(Base):
    """A short-lived permit that lets the erasure transaction delete one customer's audit rows."""

    __tablename__ = "audit_erasure_grants"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class ExemplarRow(Base):
    __tablename__ = "exemplars"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    brief: Mapped[str] = mapped_column(Text, default="")
    campaign: Mapped[str | None] = mapped_column(String(128))
    decision: Mapped[str] = mapped_column(String(16))
    source_draft_id: Mapped[int | None] = mapped_column(Integer, index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    embedded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: how often this copy was delivered and clicked (migration 0011), written by
    #: ``learn update``; retrieval weights exemplars by their shrunk click rate
    exposures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    clicks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_exemplars_brand_kind", "brand", "kind"),)


class RuleSuggestionRow(Base):
    """A substitution reviewers keep making, counted until it is worth proposing as a rule."""

    __tablename__ = "rule_suggestions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand: Mapped[str] = mapped_column(String(64))
    old_term: Mapped[str] = mapped_column(String(128))
    new_term: Mapped[str] = mapped_column(String(128))
    occurrences: Mapped[int] = mapped_column(Integer, default=0)
    example_draft_ids: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="candidate")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("brand", "old_term", "new_term", name="uq_rule_suggestions_term"),
        Index("ix_rule_suggestions_brand_status", "brand", "status"),
    )
