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

from genpersona.brands.loader import load_guide
from genpersona.campaigns.definition_store import cap_class_of, holdout_share_of
from genpersona.db.base import utcnow
from genpersona.db.engine import get_engine
from genpersona.delivery import lookup
from genpersona.delivery.assign import anonymous_key, holdout_share, is_holdout
from genpersona.delivery.caps import CAPPED_REASON, is_capped
from genpersona.delivery.eligibility import DeliverableDraft, eligible_variants
from genpersona.delivery.exposures import Exposure, choose_and_log
from genpersona.delivery.models import Channel, DeliveredContent, generic_content
from genpersona.delivery.policy import Policy, UniformPolicy
from genpersona.delivery.send_times import campaign_window, send_time_for
from genpersona.errors import ContentNotFound
from genpersona.settings import Settings, get_settings
from genpersona.types.content import VariantContent

DEFAULT_POLICY: Policy = UniformPolicy()


def brand_generic(brand: str, settings: Settings) -> VariantContent:
    guide = load_guide(brand, settings)  # BrandNotFound (404) for an unknown brand
    return generic_content(guide.fallbacks, guide.fallback_cta)


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
    if exposure.reason == CAPPED_REASON and override_reason is None:
        return DeliveredContent(**fields, fallback=True, reason=CAPPED_REASON)  # no message
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
    engine = get_engine(settings)
    state = lookup.customer_state(engine, brand, campaign, customer_id, channel)
    if state.consent is None:
        raise _not_found(generic, brand, campaign, channel, "unknown_customer")
    opted_out = None if state.consent else "opted_out"
    if state.exposure is not None:
        draft = (
            lookup.draft(engine, state.exposure.draft_id, state.draft_stamp)
            if state.exposure.draft_id is not None
            else None
        )
        return _with_send_at(
            _answer(state.exposure, draft, generic, channel, override_reason=opted_out), settings
        )
    draft = lookup.latest_draft(engine, brand, campaign, customer_id)
    if draft is None or not eligible_variants(draft):
        raise _not_found(generic, brand, campaign, channel, "not_approved")
    reason = opted_out
    if reason is None and cap_class_of(brand, campaign, settings) != "transactional":
        exempt = lambda c: cap_class_of(brand, c, settings) == "transactional"  # noqa: E731
        if is_capped(engine, brand, customer_id, settings, exempt=exempt):
            reason = CAPPED_REASON  # logged, so the ledger says why this customer got nothing
    share = holdout_share_of(brand, campaign, settings)
    exposure = choose_and_log(
        engine,
        brand=brand,
        campaign=campaign,
        channel=channel,
        recipient_key=customer_id,
        customer_id=customer_id,
        draft=draft,
        policy=policy,
        holdout=is_holdout(
            brand,
            campaign,
            customer_id,
            holdout_share(campaign, settings) if share is None else share,
        ),
        generic_reason=reason,
        seed_base=settings.seed,
    )
    return _with_send_at(
        _answer(exposure, draft, generic, channel, override_reason=opted_out), settings
    )


def _with_send_at(answer: DeliveredContent, settings: Settings) -> DeliveredContent:
    """The recipient's best send instant, unless there is no message to send."""
    if answer.customer_id is None or answer.reason == CAPPED_REASON:
        return answer
    window = campaign_window(answer.brand, answer.campaign, settings)
    when = send_time_for(
        get_engine(settings), answer.brand, answer.customer_id, utcnow(), window=window
    )
    if when is not None:
        answer.send_at = when.isoformat(timespec="minutes")
    return answer


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
    engine = get_engine(settings)
    key = anonymous_key(brand, visitor_id)
    host = _host(referrer)
    state = lookup.exposure_state(engine, brand, campaign, key, channel)
    if state.exposure is not None:
        draft = (
            lookup.draft(engine, state.exposure.draft_id, state.draft_stamp)
            if state.exposure.draft_id is not None
            else None
        )
        return _answer(state.exposure, draft, generic, channel)
    candidates = lookup.anonymous_candidates(engine, brand, campaign)
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
        engine,
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
