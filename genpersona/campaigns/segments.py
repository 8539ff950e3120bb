"""Who a campaign targets: customers of a brand picked by simple, explainable criteria.

Criteria are the ones a marketer states out loud ("UK customers who love
Christmas items and bought in the last 90 days"): country, favourite theme,
RFM thresholds, consent to email, a cap. Filtering is SQL where it is portable
and Python for the theme list (a JSON column, matched the same way on SQLite
and PostgreSQL). Order is deterministic (highest spend first, then id) so the
same segment with the same limit picks the same people on a re-run.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from genpersona.data.tables import Brand, Customer, CustomerProfile
from genpersona.db.engine import session_scope
from genpersona.errors import BrandNotFound, SegmentError
from genpersona.settings import Settings


class Segment(BaseModel):
    """Selection criteria; every one that is set must hold (AND)."""

    country: str | None = Field(default=None, max_length=64)
    theme: str | None = Field(default=None, max_length=64, description="a favourite theme slug")
    max_recency_days: int | None = Field(default=None, ge=0)
    min_frequency: int | None = Field(default=None, ge=0)
    min_monetary: float | None = Field(default=None, ge=0)
    require_email_consent: bool = False
    customer_ids: list[str] | None = Field(default=None, max_length=100_000)
    limit: int | None = Field(default=None, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _check(self) -> Segment:
        if self.customer_ids is not None and not self.customer_ids:
            raise ValueError("customer_ids is empty; omit it to select by the other criteria")
        return self

    @property
    def needs_profile(self) -> bool:
        return any(
            v is not None
            for v in (self.theme, self.max_recency_days, self.min_frequency, self.min_monetary)
        )

    def describe(self) -> str:
        """One line for tables and logs, e.g. 'country=United Kingdom, theme=christmas, limit=50'."""
        parts = [
            f"{k}={v}"
            for k, v in self.model_dump(exclude_none=True, exclude={"customer_ids"}).items()
            if v is not False
        ]
        if self.customer_ids:
            parts.append(f"customer_ids=<{len(self.customer_ids)}>")
        return ", ".join(parts) or "all customers"


def select_customers_in(session: Session, brand: str, segment: Segment) -> list[str]:
    brand_id = session.scalar(select(Brand.id).where(Brand.slug == brand))
    if brand_id is None:
        raise BrandNotFound(
            f"brand {brand!r} has no customers yet",
            fix=f"ingest its data first (genpersona ingest ... --brand {brand}) or check the name",
            brand=brand,
        )
    stmt = (
        select(Customer.external_id, CustomerProfile.favourite_themes)
        .select_from(Customer)
        .where(Customer.brand_id == brand_id)
    )
    if segment.needs_profile:
        stmt = stmt.join(CustomerProfile, CustomerProfile.customer_id == Customer.id)
    else:
        stmt = stmt.outerjoin(CustomerProfile, CustomerProfile.customer_id == Customer.id)
    if segment.country is not None:
        stmt = stmt.where(Customer.country == segment.country)
    if segment.require_email_consent:
        stmt = stmt.where(Customer.consent_email.is_(True))
    if segment.customer_ids is not None:
        stmt = stmt.where(Customer.external_id.in_(segment.customer_ids))
    if segment.max_recency_days is not None:
        stmt = stmt.where(CustomerProfile.recency_days <= segment.max_recency_days)
    if segment.min_frequency is not None:
        stmt = stmt.where(CustomerProfile.frequency >= segment.min_frequency)
    if segment.min_monetary is not None:
        stmt = stmt.where(CustomerProfile.monetary >= segment.min_monetary)
    stmt = stmt.order_by(CustomerProfile.monetary.desc().nulls_last(), Customer.external_id)
    if segment.theme is None and segment.limit is not None:
        stmt = stmt.limit(segment.limit)

    theme = segment.theme.strip().lower() if segment.theme else None
    chosen: list[str] = []
    for external_id, favourites in session.execute(stmt):
        if theme is not None and theme not in {str(t).lower() for t in favourites or []}:
            continue
        chosen.append(external_id)
        if segment.limit is not None and len(chosen) >= segment.limit:
            break
    return chosen


def select_customers(brand: str, segment: Segment, settings: Settings | None = None) -> list[str]:
    """External ids of the brand's customers in ``segment`` (BrandNotFound for an unknown brand)."""
    if not brand:
        raise SegmentError("no brand given for the segment", fix="pass --brand, e.g. giftloft")
    with session_scope(settings) as session:
        return select_customers_in(session, brand, segment)
