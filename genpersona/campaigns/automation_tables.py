"""Tables of campaign automation (schema created by migration 0007).

- ``campaign_definitions``: every applied version of a campaign file, keyed by
  (brand, name, version); ``digest`` makes re-applying an unchanged file a no-op.
- ``campaign_period_runs``: one row per (brand, campaign, period) a schedule
  fired for; the unique key is what makes a duplicate fire or a restart harmless.
- ``trigger_fires``: one row per (brand, flow, customer, triggering event); the
  unique key makes a re-delivered event harmless, ``status`` tracks it from
  ``pending`` (waiting for ``due_at``) to ``done`` / ``cancelled`` / ``debounced``.
- ``auto_review_decisions``: what the campaign review policy decided for each
  draft and by which rule, with the audit sample's verdict once a reviewer gives it
  (``audited_at``: when; migration 0013).
- ``auto_review_resumes``: a person resuming auto-approval the audit paused; the pause
  then counts only verdicts given after the latest resume (migration 0013).
Rows naming a customer carry ``brand`` + ``customer_id`` so erasure can delete them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from genpersona.db.base import Base, utcnow


class CampaignDefinitionRow(Base):
    __tablename__ = "campaign_definitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("brand", "name", "version", name="uq_campaign_definitions_version"),
    )


class CampaignPeriodRunRow(Base):
    __tablename__ = "campaign_period_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    #: the schedule's fire time in its own zone, e.g. "2026-12-01T09:00+00:00"
    period: Mapped[str] = mapped_column(String(40))
    definition_version: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="running")
    #: when the period was claimed, refreshed by the running run's heartbeat (automation.py)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("brand", "name", "period", name="uq_campaign_period_runs_period"),
    )


class TriggerFireRow(Base):
    __tablename__ = "trigger_fires"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand: Mapped[str] = mapped_column(String(64))
    flow: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    #: what triggered it, e.g. "order:581475", "view:1234", "lapsed-since:2011-06-01"
    event_key: Mapped[str] = mapped_column(String(128))
    event_ts: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    draft_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("brand", "flow", "customer_id", "event_key", name="uq_trigger_fires_key"),
        Index("ix_trigger_fires_status_due", "status", "due_at"),
    )


class AutoReviewRow(Base):
    __tablename__ = "auto_review_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draft_id: Mapped[int] = mapped_column(Integer, unique=True)
    brand: Mapped[str] = mapped_column(String(64))
    campaign: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    #: auto_approved | routed
    decision: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    audit_sampled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: None until judged; then True (reviewer agrees) or False (reviewer rejects)
    audit_ok: Mapped[bool | None] = mapped_column(Boolean)
    audited_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_auto_review_brand_campaign", "brand", "campaign"),)


class AutoReviewResumeRow(Base):
    __tablename__ = "auto_review_resumes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand: Mapped[str] = mapped_column(String(64))
    campaign: Mapped[str] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(Text, default="")
    #: the audit state the person looked at when resuming (judged, rejected verdicts)
    judged: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_auto_review_resumes_brand_campaign", "brand", "campaign"),)
