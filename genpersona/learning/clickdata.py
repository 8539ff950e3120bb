"""A brand's own outcomes for the click model, read from the exposure log and outcomes.

Each exposure that chose among approved variants becomes one row: the main line
(subject or headline) of the variant it showed, that variant's recipe, the
customer's features at training time (RFM tier, lifecycle stage, order count, from
the stored profile) and whether a human click came within the attribution window
(the policy's reward, ``logs.campaign_log``). The group is the campaign: the model
learns what wins *within* a campaign, not which campaign drew more clicks.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from genpersona.campaigns.audience import lifecycle, rfm_tier
from genpersona.campaigns.definitions import CampaignSegment
from genpersona.clickmodel.features import CustomerFeatures
from genpersona.clickmodel.train import ExposureExample
from genpersona.data.tables import Brand, Customer, CustomerProfile
from genpersona.learning.logs import campaign_log
from genpersona.review.tables import DraftVariantRow
from genpersona.types.content import VariantContent


def customer_features(
    session: Session, brand: str, customer_ids: list[str]
) -> dict[str, CustomerFeatures]:
    """Features per external customer id; customers without a profile are left out (their
    exposures get no customer terms)."""
    if not customer_ids:
        return {}
    defaults = CampaignSegment()
    rows = session.execute(
        select(Customer.external_id, CustomerProfile.recency_days, CustomerProfile.frequency)
        .join(CustomerProfile, CustomerProfile.customer_id == Customer.id)
        .join(Brand, Brand.id == Customer.brand_id)
        .where(Brand.slug == brand, Customer.external_id.in_(sorted(set(customer_ids))))
    )
    out = {}
    for ext, recency, frequency in rows:
        if recency is None:
            out[ext] = CustomerFeatures(orders=int(frequency or 0))
            continue
        out[ext] = CustomerFeatures(
            rfm_tier=rfm_tier(recency, frequency),
            lifecycle=lifecycle(recency, frequency, defaults.new_days, defaults.lapsed_days),
            orders=int(frequency or 0),
        )
    return out


def exposure_examples(
    session: Session,
    brand: str,
    campaigns: list[str] | None = None,
    *,
    window: timedelta = timedelta(days=7),
) -> list[ExposureExample]:
    """One row per logged choice of the brand's campaigns (all of them when None)."""
    names: list[str | None] = list(campaigns) if campaigns else [None]
    log = []
    for name in names:
        log += campaign_log(session, brand, name, window=window)
    keys = {(e.draft_id, e.variant_index) for e in log if e.draft_id is not None}
    draft_ids = sorted({d for d, _ in keys if d is not None})
    texts: dict[tuple[int, int], str] = {}
    for start in range(0, len(draft_ids), 500):
        for draft_id, idx, content in session.execute(
            select(DraftVariantRow.draft_id, DraftVariantRow.idx, DraftVariantRow.content).where(
                DraftVariantRow.draft_id.in_(draft_ids[start : start + 500])
            )
        ):
            if (draft_id, idx) not in keys:
                continue
            text = VariantContent.model_validate(content).main_text().strip()
            if text:
                texts[(draft_id, idx)] = text
    people = customer_features(session, brand, [e.customer_id for e in log if e.customer_id])
    out = []
    for e in log:
        if e.draft_id is None or e.variant_index is None:
            continue
        shown = texts.get((e.draft_id, e.variant_index))
        if shown is None:
            continue  # the draft was erased: nothing to learn the copy from
        out.append(
            ExposureExample(
                text=shown,
                recipe_id=e.recipe_id,
                customer=people.get(e.customer_id or ""),
                clicked=e.reward,
                group=e.campaign,
                unit=e.customer_id or str(e.exposure_id),
            )
        )
    return out
