"""The pull lookup: one recipient's copy for a campaign, logged in the exposure log.

Used by the HTTP pull endpoint and by campaign exports, so a customer pulled by
an email platform and the same customer in an export get the same choice.
Order of checks, and why:

1. no approved/edited draft (or an unknown customer) -> ``ContentNotFound``
   carrying the brand's generic copy, and *nothing logged*: a test send before
   approval must not pin the customer to the fallback for the whole campaign;
2. opted out of personalization now -> generic copy (logged, reason ``opted_out``);
   a repeat after a later opt-out also gets generic copy, whatever was logged;
3. held out (hash of campaign and customer) -> generic copy, ``holdout: true``;
4. otherwise the policy draws among ``eligible_variants(draft)``.

No LLM is called on this path: everything served was written and approved before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from genpersona.agent.models import VariantContent
from genpersona.brands.loader import load_guide
from genpersona.data.tables import Brand, Customer
from genpersona.db.engine import session_factory
from genpersona.delivery.assign import anonymous_key, holdout_share, is_holdout
from genpersona.delivery.eligibility import (
    DeliverableDraft,
    anonymous_drafts,
    eligible_variants,
    latest_for_customer,
    load_by_id,
)
from genpersona.delivery.exposures import Exposure, choose_and_log, find_exposure
from genpersona.delivery.models import Channel, DeliveredContent, generic_content
from genpersona.delivery.policy import Policy, UniformPolicy
from genpersona.errors import ContentNotFound
from genpersona.settings import Settings, get_settings

DEFAULT_POLICY: Policy = UniformPolicy()


def brand_generic(brand: str, settings: Settings) -> VariantContent:
    guide = load_guide(brand, settings)  # BrandNotFound (404) for an unknown brand
    return generic_content(dict(guide.fallbacks), guide.fallback_cta)


def _personalization_consent(session: Session, brand: str, customer_id: str) -> bool | None:
    """True/False for a known customer, None when the brand has no such customer."""
    return session.scalar(
        select(Customer.consent_personalization)
        .join(Brand, Brand.id == Customer.brand_id)
        .where(Brand.slug == brand, Customer.external_id == customer_id)
    )


def _not_found(
    generic: VariantContent, brand: str, campaign: str, channel: Channel, why: str
) -> ContentNotFound:
    body = DeliveredContent.with_copy(
        generic, brand=brand, campaign=campaign, channel=channel, fallback=True, reason=why
    ).body()
    return ContentNotFound(
        f"no approved copy for this recipient in campaign {campaign!r} of brand {brand!r}",
        fix="approve or edit the recipient's draft in the review queue; "
        "until then use the generic copy in this answer",
        **body,
    )


def _content_of(draft: DeliverableDraft, variant_index: int | None) -> VariantContent | None:
    for variant in eligible_variants(draft):
        if variant.variant_index == variant_index:
            return variant.content
    for stored in draft.variants:  # approved once, the set narrowed later: still what was sent
        if stored.index == variant_index:
            return VariantContent.model_validate(stored.content)
    return None


def _answer(
    exposure: Exposure,
    draft: DeliverableDraft | None,
    generic: VariantContent,
    channel: Channel,
    *,
    override_reason: str | None = None,
) -> DeliveredContent:
    fields: dict[str, Any] = {
        "brand": exposure.brand,
        "campaign": exposure.campaign,
        "channel": channel,
        "draft_id": exposure.draft_id,
        "tag": exposure.tag,
        "holdout": exposure.holdout,
        "customer_id": exposure.customer_id,
    }
    content = None
    if not exposure.fallback and override_reason is None and draft is not None:
        content = _content_of(draft, exposure.variant_index)
    if content is None:
        reason = override_reason or exposure.reason or "not_approved"
        return DeliveredContent.with_copy(generic, **fields, fallback=True, reason=reason)
    return DeliveredContent.with_copy(
        content, **fields, variant=exposure.variant_index, fallback=False
    )


def deliver_to_customer(
    brand: str,
    campaign: str,
    customer_id: str,
    channel: Channel = "email",
    *,
    settings: Settings | None = None,
    policy: Policy | None = None,
) -> DeliveredContent:
    """The customer's copy for the campaign on this channel; raises ContentNotFound (404)."""
    settings = settings or get_settings()
    policy = policy or DEFAULT_POLICY
    generic = brand_generic(brand, settings)
    factory = session_factory(settings)
    with factory() as session:
        consent = _personalization_consent(session, brand, customer_id)
        if consent is None:
            raise _not_found(generic, brand, campaign, channel, "unknown_customer")
        existing = find_exposure(session, brand, campaign, customer_id, channel)
        if existing is not None:
            draft = load_by_id(session, existing.draft_id) if existing.draft_id else None
        else:
            draft = latest_for_customer(session, brand, campaign, customer_id)
    if existing is not None:
        return _answer(
            existing, draft, generic, channel, override_reason=None if consent else "opted_out"
        )
    if draft is None or not eligible_variants(draft):
        raise _not_found(generic, brand, campaign, channel, "not_approved")
    exposure = choose_and_log(
        factory,
        brand=brand,
        campaign=campaign,
        channel=channel,
        recipient_key=customer_id,
        customer_id=customer_id,
        draft=draft,
        policy=policy,
        holdout=is_holdout(brand, campaign, customer_id, holdout_share(campaign, settings)),
        generic_reason=None if consent else "opted_out",
        seed_base=settings.seed,
    )
    return _answer(
        exposure, draft, generic, channel, override_reason=None if consent else "opted_out"
    )


# --- anonymous visitors (web heroes) ------------------------------------------------------
_DAYPARTS = ((5, "morning"), (12, "afternoon"), (17, "evening"), (22, "night"))


def daypart(hour: int) -> str:
    name = "night"
    for start, label in _DAYPARTS:
        if hour >= start:
            name = label
    return name


def _host(referrer: str | None) -> str:
    if not referrer:
        return ""
    parsed = urlparse(referrer if "//" in referrer else f"//{referrer}")
    host = (parsed.hostname or referrer).lower()
    return host.removeprefix("www.")


def _match(draft: DeliverableDraft, country: str | None, host: str, hour: int | None) -> int:
    """How well a contextual draft fits the visit; -1 when a signal it was written for differs."""
    made_for = draft.anonymous or {}
    score = 0
    want_country = (made_for.get("country") or "").strip().lower()
    if want_country:
        if want_country != (country or "").strip().lower():
            return -1
        score += 4
    want_host = _host(made_for.get("referrer"))
    if want_host:
        if not host or not (host == want_host or host.endswith("." + want_host)):
            return -1
        score += 2
    local_time = made_for.get("local_time")
    if local_time and hour is not None:
        try:
            if daypart(datetime.fromisoformat(str(local_time)).hour) == daypart(hour):
                score += 1
        except ValueError:
            pass
    return score


def deliver_anonymous(
    brand: str,
    campaign: str,
    channel: Channel = "web",
    *,
    country: str | None = None,
    referrer: str | None = None,
    hour: int | None = None,
    visitor_id: str | None = None,
    settings: Settings | None = None,
    policy: Policy | None = None,
) -> DeliveredContent:
    """Copy for a visitor with no profile: the best-fitting approved contextual draft.

    Contextual drafts are the campaign's approved drafts without a customer
    (generated from an ``AnonymousContext``); a draft written for a country or
    a referrer is only shown to visits that match it. No match -> generic copy.
    The exposure is logged under ``anon:<digest of visitor_id>`` (a fresh key
    per view without one, so every view is still in the log).
    """
    settings = settings or get_settings()
    policy = policy or DEFAULT_POLICY
    generic = brand_generic(brand, settings)
    factory = session_factory(settings)
    key = anonymous_key(brand, visitor_id)
    host = _host(referrer)
    with factory() as session:
        existing = find_exposure(session, brand, campaign, key, channel)
        if existing is not None:
            draft = load_by_id(session, existing.draft_id) if existing.draft_id else None
            return _answer(existing, draft, generic, channel)
        candidates = anonymous_drafts(session, brand, campaign)
    scored = [
        (_match(d, country, host, hour), -d.id, d) for d in candidates if eligible_variants(d)
    ]
    scored = [s for s in scored if s[0] >= 0]
    if not scored:
        return DeliveredContent.with_copy(
            generic,
            brand=brand,
            campaign=campaign,
            channel=channel,
            fallback=True,
            reason="no_contextual_copy",
        )
    best = max(scored, key=lambda s: (s[0], s[1]))[2]
    exposure = choose_and_log(
        factory,
        brand=brand,
        campaign=campaign,
        channel=channel,
        recipient_key=key,
        customer_id=None,
        draft=best,
        policy=policy,
        seed_base=settings.seed,
    )
    return _answer(exposure, best, generic, channel)
