"""ORM models of the customer data layer (schema created by migration 0001).

The relational store is the source of truth for every piece of text about a
customer: memory fact text, chat payloads and descriptions live here, while the
vector store only holds ``mem:{fact_id}`` / ``item:{brand}:{stock_code}`` ids
with vectors. Every table carries ``brand_id`` so several brands coexist in one
database; a customer is keyed by (brand, external id string such as "17850").
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
)
from sqlalchemy.orm import Mapped, mapped_column

from genpersona.db.base import Base, utcnow

EVENT_TYPES = ("purchase", "return", "view", "email_open", "click", "chat")
FACT_SOURCES = ("behaviour", "chat", "form", "marketer", "import")


class Brand(Base):
    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("brand_id", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(128))
    country: Mapped[str | None] = mapped_column(String(64), nullable=True)
    locale: Mapped[str] = mapped_column(String(16), default="en-GB")
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    consent_personalization: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_email: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_chat_memory: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    #: after a reset, profiles and memories are derived only from events at or after this time
    learning_since: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    source: Mapped[str] = mapped_column(String(64), default="api")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("brand_id", "source", "source_key"),
        Index("ix_events_customer_ts", "customer_id", "ts"),
        Index("ix_events_brand_type", "brand_id", "type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    #: NULL for guest checkouts: they count for popularity but are not customers
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), nullable=True
    )
    type: Mapped[str] = mapped_column(String(16))
    ts: Mapped[datetime] = mapped_column(DateTime)
    stock_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    quantity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    unit_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    country: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: free text (chat messages, campaign ids); personal, erased with the customer
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    source: Mapped[str] = mapped_column(String(64))
    source_key: Mapped[str] = mapped_column(String(128))


class MemoryFact(Base):
    __tablename__ = "memory_facts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32), default="note")
    source: Mapped[str] = mapped_column(String(32))
    #: True only for what the customer told us; behaviour-inferred facts are never quoted
    knowingly_shared: Mapped[bool] = mapped_column(Boolean, default=False)
    #: {"event_ids": [...], "stock_codes": [...], "note": "..."}
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    #: id in the MEMORY vector collection once embedded (``mem:{id}``), else NULL
    vector_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CatalogItem(Base):
    __tablename__ = "catalog_items"
    __table_args__ = (UniqueConstraint("brand_id", "stock_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    stock_code: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(300))
    raw_description: Mapped[str | None] = mapped_column(String(300), nullable=True)
    price: Mapped[float | None] = mapped_column(Float, nullable=True)
    theme: Mapped[str | None] = mapped_column(String(64), nullable=True)
    n_orders: Mapped[int] = mapped_column(Integer, default=0)
    n_customers: Mapped[int] = mapped_column(Integer, default=0)
    is_product: Mapped[bool] = mapped_column(Boolean, default=True)


class Theme(Base):
    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("brand_id", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(120))
    method: Mapped[str] = mapped_column(String(32))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    n_items: Mapped[int] = mapped_column(Integer, default=0)


class ItemTheme(Base):
    __tablename__ = "item_themes"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_items.id", ondelete="CASCADE"), primary_key=True
    )
    theme_id: Mapped[int] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    score: Mapped[float] = mapped_column(Float, default=1.0)


class CustomerProfile(Base):
    __tablename__ = "customer_profiles"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    as_of: Mapped[datetime] = mapped_column(DateTime)
    recency_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    frequency: Mapped[int] = mapped_column(Integer, default=0)
    monetary: Mapped[float] = mapped_column(Float, default=0.0)
    n_returns: Mapped[int] = mapped_column(Integer, default=0)
    first_order_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_order_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    avg_order_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    favourite_themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    theme_shares: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    typical_order_weekday: Mapped[str | None] = mapped_column(String(16), nullable=True)
    typical_order_hour: Mapped[int | None] = mapped_column(Integer, nullable=True)
    top_month: Mapped[int | None] = mapped_column(Integer, nullable=True)
    price_band: Mapped[str | None] = mapped_column(String(16), nullable=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class IngestRun(Base):
    __tablename__ = "ingest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ErasedCustomer(Base):
    """Suppression list: a one-way digest of each erased customer's id (migration 0004).

    Without it, re-importing the same source file would bring an erased
    customer straight back. Only the digest is kept, never the id itself.
    """

    __tablename__ = "erased_customers"
    __table_args__ = (UniqueConstraint("brand", "digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
