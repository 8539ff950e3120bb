"""Small query helpers shared by ingest, profiles, retrieval and customer controls.

They take an open Session so callers decide the transaction boundary (an ingest
is one transaction; a context lookup is a short read).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from genpersona.data.tables import Brand, Customer, Event
from genpersona.errors import BrandNotFound, CustomerNotFound, InputError

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_brand_slug(slug: str) -> str:
    if not _SLUG.match(slug or ""):
        raise InputError(
            f"brand name {slug!r} is not a valid slug",
            fix="use 1-64 lower-case letters, digits, '-' or '_', e.g. 'giftloft'",
            brand=slug,
        )
    return slug


def get_brand(session: Session, slug: str) -> Brand:
    brand = session.scalar(select(Brand).where(Brand.slug == slug))
    if brand is None:
        raise BrandNotFound(
            f"brand {slug!r} has no data yet",
            fix=f"ingest data first, e.g. `genpersona ingest online-retail PATH --brand {slug}`",
            brand=slug,
        )
    return brand


def get_or_create_brand(session: Session, slug: str, name: str | None = None) -> Brand:
    check_brand_slug(slug)
    brand = session.scalar(select(Brand).where(Brand.slug == slug))
    if brand is None:
        brand = Brand(slug=slug, name=name or slug.replace("-", " ").title())
        session.add(brand)
        session.flush()
    return brand


def get_customer(session: Session, brand: Brand, external_id: str) -> Customer:
    customer = session.scalar(
        select(Customer).where(Customer.brand_id == brand.id, Customer.external_id == external_id)
    )
    if customer is None:
        raise CustomerNotFound(
            f"customer {external_id!r} does not exist for brand {brand.slug!r}",
            fix="check the customer id (e.g. '17850'), or ingest or record events for them first",
            brand=brand.slug,
            customer_id=external_id,
        )
    return customer


def brand_latest_event(session: Session, brand: Brand) -> datetime | None:
    """The clock of a brand's data: recency is measured from here, not from today."""
    return session.scalar(select(func.max(Event.ts)).where(Event.brand_id == brand.id))


def memory_vector_id(fact_id: int) -> str:
    return f"mem:{fact_id}"


def item_vector_id(brand_slug: str, stock_code: str) -> str:
    return f"item:{brand_slug}:{stock_code}"
