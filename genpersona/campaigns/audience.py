"""Lifecycle stage and RFM tier on top of the segment filters, from the stored RFM profile.

The tiers are the textbook ones reduced to rules a marketer can read back
(recency in days since the last order, frequency in orders):

- champions: bought within 30 days and at least 5 orders;
- loyal: at least 5 orders and bought within 90 days;
- at_risk: at least 2 orders but nothing for more than 90 days;
- promising: bought within 60 days (few orders so far);
- hibernating: everyone else.

Lifecycle: ``new`` = one order, within ``new_days``; ``lapsed`` = no order for
more than ``lapsed_days``; ``active`` = neither.
"""

from __future__ import annotations

from sqlalchemy import select

from genpersona.campaigns.definitions import CampaignSegment, Lifecycle, RfmTier
from genpersona.campaigns.segments import select_customers_in
from genpersona.data.tables import Brand, Customer, CustomerProfile
from genpersona.db.engine import session_scope
from genpersona.settings import Settings


def rfm_tier(recency_days: int, frequency: int) -> RfmTier:
    if recency_days <= 30 and frequency >= 5:
        return "champions"
    if frequency >= 5 and recency_days <= 90:
        return "loyal"
    if frequency >= 2 and recency_days > 90:
        return "at_risk"
    if recency_days <= 60:
        return "promising"
    return "hibernating"


def lifecycle(recency_days: int, frequency: int, new_days: int, lapsed_days: int) -> Lifecycle:
    if recency_days > lapsed_days:
        return "lapsed"
    if frequency <= 1 and recency_days <= new_days:
        return "new"
    return "active"


def select_audience(
    brand: str, segment: CampaignSegment, settings: Settings | None = None
) -> list[str]:
    """The segment's customers, in the segment's order, filtered by lifecycle and RFM tier."""
    base = segment.base()
    if segment.lifecycle is None and segment.rfm_tier is None:
        with session_scope(settings) as session:
            return select_customers_in(session, brand, base)
    limit = base.limit
    with session_scope(settings) as session:
        chosen = select_customers_in(session, brand, base.model_copy(update={"limit": None}))
        profiles = dict(
            (ext, (r, f))
            for ext, r, f in session.execute(
                select(
                    Customer.external_id, CustomerProfile.recency_days, CustomerProfile.frequency
                )
                .join(CustomerProfile, CustomerProfile.customer_id == Customer.id)
                .join(Brand, Brand.id == Customer.brand_id)
                .where(Brand.slug == brand)
            )
        )
    out: list[str] = []
    for ext in chosen:
        recency, frequency = profiles.get(ext, (None, 0))
        if recency is None:
            continue  # no orders yet: no tier to match
        if segment.rfm_tier is not None and rfm_tier(recency, frequency) != segment.rfm_tier:
            continue
        stage = lifecycle(recency, frequency, segment.new_days, segment.lapsed_days)
        if segment.lifecycle is not None and stage != segment.lifecycle:
            continue
        out.append(ext)
        if limit is not None and len(out) >= limit:
            break
    return out
