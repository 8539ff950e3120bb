"""Tables of campaign runs and of draft outcomes (schema created by migration 0003).

``outcomes`` holds what happened to a sent variant (sent, opened, clicked,
converted): the raw log the learning loop reads. ``campaign_runs`` records each
run of a campaign job and ``campaign_run_items`` one row per targeted customer,
so a failed customer can be found and retried. Rows that name a customer carry
``brand`` + ``customer_id`` strings so erasure can delete them (see
``genpersona.campaigns.erasure``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from genpersona.db.base import Base, utcnow


class OutcomeRow(Base):
    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: erasing a customer's drafts removes their outcomes with them; None for an
    #: outcome of an exposure that showed generic copy (holdout, opted out)
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("drafts.id", ondelete="CASCADE"), index=True
    )
    variant_index: Mapped[int | None] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    brand: Mapped[str] = mapped_column(String(64))
    campaign: Mapped[str | None] = mapped_column(String(128))
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    ts: Mapped[datetime] = mapped_column(DateTime)
    #: the caller's id; unique so a re-sent outcome is stored once
    outcome_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: the email platform that reported it (migration 0006), None for POST /v1/outcomes
    provider: Mapped[str | None] = mapped_column(String(32))
    #: the platform's own event id: a replayed webhook batch is stored once
    event_key: Mapped[str | None] = mapped_column(String(128))
    #: exposures.id; the foreign key (ON DELETE CASCADE) is declared in migration 0006
    #: only, so this module does not import the delivery package that owns the table
    exposure_id: Mapped[int | None] = mapped_column(Integer)
    #: an open by a privacy proxy or a link scanner: never a human open
    machine_open: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_outcomes_brand_campaign_type", "brand", "campaign", "type"),
        Index("ix_outcomes_draft_variant_type", "draft_id", "variant_index", "type"),
        Index("ix_outcomes_exposure_id_type", "exposure_id", "type"),
        UniqueConstraint("provider", "event_key", name="uq_outcomes_provider"),
    )


class CampaignRunRow(Base):
    __tablename__ = "campaign_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    brief: Mapped[str] = mapped_column(Text, default="")
    n: Mapped[int] = mapped_column(Integer, default=3)
    #: the criteria as given (no customer ids), e.g. {"country": "United Kingdom"}
    segment: Mapped[dict[str, Any]] = mapped_column(JSON)
    distributed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="running")
    targeted: Mapped[int] = mapped_column(Integer, default=0)
    generated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_campaign_runs_brand_started", "brand", "started_at"),)


class CampaignRunItemRow(Base):
    __tablename__ = "campaign_run_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_runs.id", ondelete="CASCADE"), index=True
    )
    brand: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    #: generated | skipped (a pending draft already existed) | failed
    status: Mapped[str] = mapped_column(String(16))
    draft_id: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("run_id", "customer_id", name="uq_campaign_run_items_run"),)
