"""The exposure log (schema created by migration 0005).

One row per (brand, campaign, recipient, channel): the first request makes the
choice and writes it in the same transaction; repeated requests read it back, so
a platform that renders each part of a message separately sees one choice.
``probabilities`` holds every eligible variant's probability
(``[{"variant_index": i, "recipe_id": r, "p": p}, ...]``, summing to 1), which is
what off-policy evaluation reads. ``tag`` is a short random id, carrying no
personal data, that exports and pull answers hand to the email platform so its
webhooks can name the exposure they report on. ``recipient_key`` is the
customer id, or ``anon:<digest>`` for an anonymous web visitor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from genpersona.db.base import Base, utcnow


class ExposureRow(Base):
    __tablename__ = "exposures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand: Mapped[str] = mapped_column(String(64))
    campaign: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    recipient_key: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    #: a later erase of the draft keeps the exposure's propensities but not the link
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("drafts.id", ondelete="SET NULL"), index=True
    )
    variant_index: Mapped[int | None] = mapped_column(Integer)
    recipe_id: Mapped[str | None] = mapped_column(String(64))
    policy_name: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str] = mapped_column(String(32))
    #: probability the policy gave the chosen variant (1.0 for holdout / fallback)
    propensity: Mapped[float] = mapped_column(Float)
    probabilities: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    seed: Mapped[int] = mapped_column(BigInteger)
    holdout: Mapped[bool] = mapped_column(Boolean)
    #: generic copy was given (opted out, holdout, capped, nothing approved)
    fallback: Mapped[bool] = mapped_column(Boolean)
    #: why generic copy was given, e.g. "holdout", "opted_out", "not_approved"
    reason: Mapped[str | None] = mapped_column(String(64))
    tag: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "brand", "campaign", "recipient_key", "channel", name="uq_exposures_brand"
        ),
        Index("ix_exposures_brand_campaign", "brand", "campaign"),
    )
