"""Stored allocations and promotion decisions (schema created by migration 0008).

Every allocation ``learn update`` computes is kept, never overwritten: the
exposure log names the policy version it used, and off-policy evaluation and
the console's allocation-over-time chart read the history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from genpersona.db.base import Base, utcnow


class AllocationRow(Base):
    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    #: canonical JSON of the segment criteria (or a campaign's name when it has none)
    segment: Mapped[str] = mapped_column(String(512))
    campaign: Mapped[str | None] = mapped_column(String(128))
    #: 1, 2, ... per (brand, kind, segment)
    version: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    #: [{recipe_id, impressions, clicks, p, p_best, expected_loss, retire_cost, retired}]
    arms: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    prior: Mapped[dict[str, Any]] = mapped_column(JSON)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    warmup: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("brand", "kind", "segment", "version", name="uq_allocations_version"),
        Index("ix_allocations_brand_campaign", "brand", "campaign"),
    )


class PromotionRow(Base):
    __tablename__ = "policy_promotions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand: Mapped[str] = mapped_column(String(64))
    campaign: Mapped[str] = mapped_column(String(128))
    candidate: Mapped[str] = mapped_column(String(128))
    current: Mapped[str] = mapped_column(String(128))
    estimator: Mapped[str] = mapped_column(String(16))
    promoted: Mapped[bool] = mapped_column(Boolean)
    #: every estimate with its interval, the paired difference and the reason
    numbers: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_policy_promotions_brand_campaign", "brand", "campaign"),)
